extension EngineClient {
    /// Checks that the engine answers.
    /// Maps to `GET /_ping` (unversioned). Returns the body (`OK`).
    @discardableResult
    public func ping(timeout: Duration = .seconds(5)) async throws -> String {
        let response = try await send("GET", "/_ping", timeout: timeout, versioned: false)
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The engine's version and API version.
    /// Maps to `GET /version`.
    public func version() async throws -> VersionInfo {
        try await get("/version")
    }

    /// System-wide information.
    /// Maps to `GET /info`.
    public func info() async throws -> SystemInfo {
        try await get("/info")
    }
}
