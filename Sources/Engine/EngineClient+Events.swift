import Foundation

extension EngineClient {
    /// The engine's event stream, decoded. Without `until` it lasts until the
    /// consumer stops iterating (which aborts the transfer).
    /// Maps to `GET /events?since=&until=&filters=`.
    public func events(
        since: Int64? = nil, until: Int64? = nil, filters: EventFilters = EventFilters()
    ) async throws -> TransferStream<EngineEvent> {
        var query = Query()
        query.add("since", since.map(String.init))
        query.add("until", until.map(String.init))
        query.add("filters", Self.filtersJSON(filters.dictionary))
        let response = try await openStream("GET", "/events", query: query)
        let decoder = self.decoder
        let body = response.body
        let (stream, continuation) = AsyncThrowingStream<EngineEvent, any Error>.makeStream()
        do {
            let task = Task {
                var splitter = JSONLineSplitter()
                func emit(_ line: [UInt8]) throws {
                    do {
                        continuation.yield(try decoder.decode(EngineEvent.self, from: Data(line)))
                    } catch {
                        throw EngineError(
                            .decoding, operation: "GET /events",
                            message: "cannot decode event: \(String(decoding: line.prefix(300), as: UTF8.self))",
                            underlying: error)
                    }
                }
                do {
                    for try await chunk in body {
                        for line in splitter.feed(chunk) { try emit(line) }
                    }
                    if let last = splitter.finish() { try emit(last) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
            return TransferStream(stream, stop: { task.cancel(); body.cancel() })
        }
    }
}
