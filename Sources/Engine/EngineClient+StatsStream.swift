import Foundation

extension EngineClient {
    /// Resource usage samples as the engine produces them (about one a second)
    /// until the container is gone or the consumer stops iterating.
    /// Maps to `GET /containers/{id}/stats?stream=true`.
    public func containerStatsStream(_ id: String) async throws -> TransferStream<ContainerStats> {
        var query = Query()
        query.add("stream", true)
        let response = try await openStream(
            "GET", "/containers/\(Self.segment(id))/stats", route: "/containers/{id}/stats", query: query)
        return decodedLines(response.body, as: ContainerStats.self, operation: "GET /containers/{id}/stats")
    }
}
