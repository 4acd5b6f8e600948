import Foundation

extension EngineClient {
    /// Resource usage samples as the engine produces them (about one a second)
    /// until the container is gone or the consumer stops iterating.
    /// Maps to `GET /containers/{id}/stats?stream=true`.
    public func containerStatsStream(_ id: String) async throws -> AsyncThrowingStream<ContainerStats, any Error> {
        var query = Query()
        query.add("stream", true)
        let operation = "GET /containers/{id}/stats"
        let response = try await openStream(
            "GET", "/containers/\(Self.segment(id))/stats", route: "/containers/{id}/stats", query: query)
        let decoder = JSONDecoder()
        return AsyncThrowingStream { continuation in
            let task = Task {
                var splitter = JSONLineSplitter()
                do {
                    for try await bytes in response.body {
                        for line in splitter.feed(bytes) {
                            do {
                                continuation.yield(try decoder.decode(ContainerStats.self, from: Data(line)))
                            } catch {
                                throw EngineError(
                                    .decoding, operation: operation, status: response.status,
                                    message: "cannot decode a stats sample: \(error)", underlying: error)
                            }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
