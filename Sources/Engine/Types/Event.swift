/// One entry of `GET /events`.
public struct EngineEvent: Codable, Sendable, Equatable {
    /// `container`, `image`, `network`, `volume`, …
    public var type: String
    /// `create`, `start`, `die`, `destroy`, `pause`, `oom`, `exec_start: sh -c …`, …
    public var action: String
    public var actor: Actor
    public var scope: String?
    /// Unix seconds.
    public var time: Int64
    public var timeNano: Int64?

    public struct Actor: Codable, Sendable, Equatable {
        public var id: String
        /// Labels of the object plus `name`, `image`, `exitCode`, …
        public var attributes: [String: String]
        enum CodingKeys: String, CodingKey {
            case id = "ID"
            case attributes = "Attributes"
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            attributes = try c.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
        }
        public init(id: String, attributes: [String: String]) {
            self.id = id
            self.attributes = attributes
        }
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type"
        case action = "Action"
        case actor = "Actor"
        case scope
        case time
        case timeNano
    }
}

/// Filters for ``EngineClient/events(since:until:filters:)``.
public struct EventFilters: Sendable {
    /// `key` or `key=value`.
    public var labels: [String] = []
    /// `container`, `image`, …
    public var types: [String] = []
    /// Actions such as `start`, `die`.
    public var events: [String] = []
    /// Container ids or names.
    public var containers: [String] = []

    public init(labels: [String] = [], types: [String] = [], events: [String] = [], containers: [String] = []) {
        self.labels = labels
        self.types = types
        self.events = events
        self.containers = containers
    }

    var dictionary: [String: [String]] {
        var d: [String: [String]] = [:]
        if !labels.isEmpty { d["label"] = labels }
        if !types.isEmpty { d["type"] = types }
        if !events.isEmpty { d["event"] = events }
        if !containers.isEmpty { d["container"] = containers }
        return d
    }
}
