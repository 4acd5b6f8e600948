extension EngineClient {
    /// A network's settings, e.g. `bridge` for the default bridge's gateway address.
    /// Maps to `GET /networks/{id}`.
    public func inspectNetwork(_ idOrName: String) async throws -> NetworkInspect {
        try await get("/networks/\(Self.segment(idOrName))", route: "/networks/{id}")
    }
}
