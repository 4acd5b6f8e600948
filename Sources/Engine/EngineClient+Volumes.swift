/// A named volume (the fields tandem uses).
public struct VolumeInfo: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]?

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case labels = "Labels"
    }
}

struct VolumeCreateSpec: Codable, Sendable {
    var name: String
    var labels: [String: String]
    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case labels = "Labels"
    }
}

struct VolumeList: Codable, Sendable {
    var volumes: [VolumeInfo]?
    enum CodingKeys: String, CodingKey {
        case volumes = "Volumes"
    }
}

extension EngineClient {
    /// Creates a named volume with labels; an existing volume of that name is
    /// returned as it is (the engine answers 201 either way).
    /// Maps to `POST /volumes/create`.
    @discardableResult
    public func createVolume(_ name: String, labels: [String: String] = [:]) async throws -> VolumeInfo {
        try await post("/volumes/create", body: VolumeCreateSpec(name: name, labels: labels))
    }

    /// Volumes carrying every given label (`"key"` or `"key=value"`).
    /// Maps to `GET /volumes?filters=`.
    public func listVolumes(labels: [String] = []) async throws -> [VolumeInfo] {
        var query = Query()
        query.add("filters", Self.filtersJSON(labels.isEmpty ? [:] : ["label": labels]))
        let list: VolumeList = try await get("/volumes", query: query)
        return list.volumes ?? []
    }

    /// Removes a volume; one still mounted by a container is a `conflict`.
    /// Maps to `DELETE /volumes/{name}`.
    public func removeVolume(_ name: String, force: Bool = false) async throws {
        var query = Query()
        query.add("force", force)
        _ = try await send("DELETE", "/volumes/\(Self.segment(name))", route: "/volumes/{name}", query: query)
    }
}
