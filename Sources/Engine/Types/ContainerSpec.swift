/// The body of `POST /containers/create`. Property names are Swift's; the JSON keys
/// are exactly the Engine API's. Fields left `nil` are not sent.
public struct ContainerSpec: Codable, Sendable, Equatable {
    public var image: String
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var env: [String]?
    public var labels: [String: String]?
    public var user: String?
    public var workingDir: String?
    public var hostname: String?
    public var tty: Bool?
    public var openStdin: Bool?
    public var stdinOnce: Bool?
    public var attachStdin: Bool?
    public var attachStdout: Bool?
    public var attachStderr: Bool?
    /// `{"8080/tcp": {}}`.
    public var exposedPorts: [String: EmptyObject]?
    public var stopSignal: String?
    /// Seconds to wait before killing on stop.
    public var stopTimeout: Int?
    public var networkDisabled: Bool?
    public var hostConfig: HostConfig?

    public init(image: String, cmd: [String]? = nil, labels: [String: String]? = nil, hostConfig: HostConfig? = nil) {
        self.image = image
        self.cmd = cmd
        self.labels = labels
        self.hostConfig = hostConfig
    }

    enum CodingKeys: String, CodingKey {
        case image = "Image"
        case cmd = "Cmd"
        case entrypoint = "Entrypoint"
        case env = "Env"
        case labels = "Labels"
        case user = "User"
        case workingDir = "WorkingDir"
        case hostname = "Hostname"
        case tty = "Tty"
        case openStdin = "OpenStdin"
        case stdinOnce = "StdinOnce"
        case attachStdin = "AttachStdin"
        case attachStdout = "AttachStdout"
        case attachStderr = "AttachStderr"
        case exposedPorts = "ExposedPorts"
        case stopSignal = "StopSignal"
        case stopTimeout = "StopTimeout"
        case networkDisabled = "NetworkDisabled"
        case hostConfig = "HostConfig"
    }
}

/// `{}` in JSON (the values of `ExposedPorts`).
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

/// `HostConfig`: resources, mounts, ports, network, security. As sent on create and
/// as reported by inspect.
public struct HostConfig: Codable, Sendable, Equatable {
    /// Bytes; the engine's minimum is 6 MiB.
    public var memory: Int64?
    /// Memory + swap in bytes; set equal to `memory` for no swap, -1 for unlimited swap.
    public var memorySwap: Int64?
    /// CPU quota in units of 10⁻⁹ CPUs.
    public var nanoCpus: Int64?
    public var cpuShares: Int64?
    public var pidsLimit: Int64?
    public var readonlyRootfs: Bool?
    /// Mount point → options, e.g. `["/tmp": "rw,size=64m,mode=1777"]`.
    public var tmpfs: [String: String]?
    public var mounts: [Mount]?
    public var binds: [String]?
    /// `"8080/tcp"` → bindings.
    public var portBindings: [String: [PortBinding]]?
    public var publishAllPorts: Bool?
    /// `bridge`, `host`, `none`, or a network name.
    public var networkMode: String?
    public var extraHosts: [String]?
    public var capAdd: [String]?
    public var capDrop: [String]?
    /// e.g. `["no-new-privileges"]` (Docker also accepts `no-new-privileges:true`).
    public var securityOpt: [String]?
    public var `init`: Bool?
    public var ulimits: [Ulimit]?
    public var autoRemove: Bool?
    public var restartPolicy: RestartPolicy?
    public var shmSize: Int64?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case memory = "Memory"
        case memorySwap = "MemorySwap"
        case nanoCpus = "NanoCpus"
        case cpuShares = "CpuShares"
        case pidsLimit = "PidsLimit"
        case readonlyRootfs = "ReadonlyRootfs"
        case tmpfs = "Tmpfs"
        case mounts = "Mounts"
        case binds = "Binds"
        case portBindings = "PortBindings"
        case publishAllPorts = "PublishAllPorts"
        case networkMode = "NetworkMode"
        case extraHosts = "ExtraHosts"
        case capAdd = "CapAdd"
        case capDrop = "CapDrop"
        case securityOpt = "SecurityOpt"
        case `init` = "Init"
        case ulimits = "Ulimits"
        case autoRemove = "AutoRemove"
        case restartPolicy = "RestartPolicy"
        case shmSize = "ShmSize"
    }
}

/// One entry of `HostConfig.Mounts`.
public struct Mount: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case bind, tmpfs, volume
    }

    public var type: Kind
    /// Host path (bind) or volume name; empty for tmpfs.
    public var source: String?
    public var target: String
    public var readOnly: Bool?
    public var tmpfsOptions: TmpfsOptions?

    public struct TmpfsOptions: Codable, Sendable, Equatable {
        public var sizeBytes: Int64?
        public var mode: Int?
        public init(sizeBytes: Int64? = nil, mode: Int? = nil) {
            self.sizeBytes = sizeBytes
            self.mode = mode
        }
        enum CodingKeys: String, CodingKey {
            case sizeBytes = "SizeBytes"
            case mode = "Mode"
        }
    }

    /// A host path mounted into the container.
    public static func bind(source: String, target: String, readOnly: Bool = false) -> Mount {
        Mount(type: .bind, source: source, target: target, readOnly: readOnly, tmpfsOptions: nil)
    }

    /// A named volume (created by the engine on first use) mounted into the container.
    public static func volume(name: String, target: String, readOnly: Bool = false) -> Mount {
        Mount(type: .volume, source: name, target: target, readOnly: readOnly, tmpfsOptions: nil)
    }

    /// A tmpfs of at most `sizeBytes`.
    public static func tmpfs(target: String, sizeBytes: Int64? = nil, mode: Int? = nil) -> Mount {
        Mount(type: .tmpfs, source: nil, target: target, readOnly: nil,
              tmpfsOptions: TmpfsOptions(sizeBytes: sizeBytes, mode: mode))
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type"
        case source = "Source"
        case target = "Target"
        case readOnly = "ReadOnly"
        case tmpfsOptions = "TmpfsOptions"
    }
}

/// A published port: host address and port.
public struct PortBinding: Codable, Sendable, Equatable {
    public var hostIP: String?
    /// As a string, like the API; `""` or `"0"` lets the engine choose.
    public var hostPort: String?

    public init(hostIP: String? = nil, hostPort: String? = nil) {
        self.hostIP = hostIP
        self.hostPort = hostPort
    }

    enum CodingKeys: String, CodingKey {
        case hostIP = "HostIp"
        case hostPort = "HostPort"
    }
}

/// A resource limit (`nofile`, `nproc`, …).
public struct Ulimit: Codable, Sendable, Equatable {
    public var name: String
    public var soft: Int64
    public var hard: Int64

    public init(name: String, soft: Int64, hard: Int64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case soft = "Soft"
        case hard = "Hard"
    }
}

/// `HostConfig.RestartPolicy`.
public struct RestartPolicy: Codable, Sendable, Equatable {
    /// `""`, `no`, `always`, `unless-stopped`, `on-failure`.
    public var name: String
    public var maximumRetryCount: Int?

    public init(name: String, maximumRetryCount: Int? = nil) {
        self.name = name
        self.maximumRetryCount = maximumRetryCount
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case maximumRetryCount = "MaximumRetryCount"
    }
}

/// The answer of `POST /containers/create`.
public struct ContainerCreateResponse: Codable, Sendable, Equatable {
    public var id: String
    public var warnings: [String]?
    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case warnings = "Warnings"
    }
}

/// The answer of `POST /containers/{id}/wait`.
public struct ContainerWaitResponse: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var error: WaitError?

    public struct WaitError: Codable, Sendable, Equatable {
        public var message: String?
        enum CodingKeys: String, CodingKey { case message = "Message" }
    }

    enum CodingKeys: String, CodingKey {
        case statusCode = "StatusCode"
        case error = "Error"
    }
}

/// `condition` of `POST /containers/{id}/wait`.
public enum WaitCondition: String, Sendable {
    case notRunning = "not-running"
    case nextExit = "next-exit"
    case removed = "removed"
}
