/// The body of `POST /containers/{id}/exec`.
public struct ExecSpec: Codable, Sendable, Equatable {
    public var cmd: [String]
    public var env: [String]?
    public var user: String?
    public var workingDir: String?
    public var attachStdin: Bool?
    public var attachStdout: Bool?
    public var attachStderr: Bool?
    public var tty: Bool?

    /// A command whose stdout and stderr are captured.
    public init(cmd: [String], env: [String]? = nil, user: String? = nil, workingDir: String? = nil) {
        self.cmd = cmd
        self.env = env
        self.user = user
        self.workingDir = workingDir
        self.attachStdout = true
        self.attachStderr = true
    }

    enum CodingKeys: String, CodingKey {
        case cmd = "Cmd"
        case env = "Env"
        case user = "User"
        case workingDir = "WorkingDir"
        case attachStdin = "AttachStdin"
        case attachStdout = "AttachStdout"
        case attachStderr = "AttachStderr"
        case tty = "Tty"
    }
}

/// The body of `POST /exec/{id}/start`.
struct ExecStartSpec: Codable, Sendable {
    var detach: Bool
    var tty: Bool
    enum CodingKeys: String, CodingKey {
        case detach = "Detach"
        case tty = "Tty"
    }
}

/// `{"Id": …}` answers.
struct IDResponse: Codable, Sendable {
    var id: String
    enum CodingKeys: String, CodingKey { case id = "Id" }
}

/// `GET /exec/{id}/json`.
public struct ExecInspect: Codable, Sendable, Equatable {
    public var id: String
    public var running: Bool
    /// `nil` while running.
    public var exitCode: Int?
    public var pid: Int?
    public var containerID: String?

    enum CodingKeys: String, CodingKey {
        case id = "ID"
        case running = "Running"
        case exitCode = "ExitCode"
        case pid = "Pid"
        case containerID = "ContainerID"
    }
}

/// What an attached exec printed and how it ended.
public struct ExecResult: Sendable, Equatable {
    public var exitCode: Int
    public var output: ContainerOutput
}
