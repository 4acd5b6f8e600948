/// `GET /images/{name}/json` (the fields tandem uses).
public struct ImageInspect: Codable, Sendable, Equatable {
    public var id: String
    public var repoTags: [String]?
    public var created: String?
    public var size: Int64?
    public var architecture: String?
    public var os: String?
    public var config: Config?

    public struct Config: Codable, Sendable, Equatable {
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var env: [String]?
        public var labels: [String: String]?
        public var user: String?
        public var workingDir: String?
        public var exposedPorts: [String: EmptyObject]?
        enum CodingKeys: String, CodingKey {
            case cmd = "Cmd"
            case entrypoint = "Entrypoint"
            case env = "Env"
            case labels = "Labels"
            case user = "User"
            case workingDir = "WorkingDir"
            case exposedPorts = "ExposedPorts"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case repoTags = "RepoTags"
        case created = "Created"
        case size = "Size"
        case architecture = "Architecture"
        case os = "Os"
        case config = "Config"
    }
}

/// One row of `GET /images/json`.
public struct ImageSummary: Codable, Sendable, Equatable {
    public var id: String
    public var repoTags: [String]?
    public var created: Int64?
    public var size: Int64?
    public var labels: [String: String]?
    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case repoTags = "RepoTags"
        case created = "Created"
        case size = "Size"
        case labels = "Labels"
    }
}

/// One row of the answer of `DELETE /images/{name}`.
public struct ImageDeleteItem: Codable, Sendable, Equatable {
    public var untagged: String?
    public var deleted: String?
    enum CodingKeys: String, CodingKey {
        case untagged = "Untagged"
        case deleted = "Deleted"
    }
}

/// One JSON line of `POST /build` progress:
/// `{"stream": …}`, `{"aux": {"ID": …}}`, `{"error": …, "errorDetail": {…}}`, `{"status": …}`.
public struct BuildMessage: Codable, Sendable, Equatable {
    public var stream: String?
    public var status: String?
    public var progress: String?
    public var id: String?
    public var aux: Aux?
    public var error: String?
    public var errorDetail: ErrorDetail?

    public struct Aux: Codable, Sendable, Equatable {
        public var id: String?
        enum CodingKeys: String, CodingKey { case id = "ID" }
    }

    public struct ErrorDetail: Codable, Sendable, Equatable {
        public var code: Int?
        public var message: String?
    }
}

/// Options for ``EngineClient/buildImage(contextDirectory:options:progress:)``.
public struct BuildOptions: Sendable {
    /// `name:tag` references to apply.
    public var tags: [String] = []
    /// Path of the Dockerfile inside the context.
    public var dockerfile = "Dockerfile"
    public var buildArgs: [String: String] = [:]
    public var labels: [String: String] = [:]
    public var noCache = false
    /// Remove intermediate containers, even after a failed build.
    public var removeIntermediate = true

    public init(tags: [String] = [], dockerfile: String = "Dockerfile") {
        self.tags = tags
        self.dockerfile = dockerfile
    }
}
