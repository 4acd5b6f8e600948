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
        return decodedLines(response.body, as: EngineEvent.self, operation: "GET /events")
    }
}
