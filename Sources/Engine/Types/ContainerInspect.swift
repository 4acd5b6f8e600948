/// `GET /containers/{id}/json` (the fields tandem uses).
public struct ContainerInspect: Codable, Sendable {
    public var id: String
    /// With the engine's leading `/`.
    public var name: String
    public var created: String?
    /// The image id.
    public var image: String?
    public var restartCount: Int?
    public var state: State
    public var config: Config?
    public var hostConfig: HostConfig?
    public var networkSettings: NetworkSettings?
    public var mounts: [MountPoint]?

    public struct State: Codable, Sendable, Equatable {
        /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
        public var status: String
        public var running: Bool
        public var paused: Bool
        public var restarting: Bool?
        public var oomKilled: Bool
        public var dead: Bool?
        public var pid: Int
        public var exitCode: Int
        public var error: String?
        /// RFC 3339 with nanoseconds; `0001-01-01T00:00:00Z` when never.
        public var startedAt: String?
        public var finishedAt: String?
        public var health: Health?

        public struct Health: Codable, Sendable, Equatable {
            public var status: String?
            public var failingStreak: Int?
            enum CodingKeys: String, CodingKey {
                case status = "Status"
                case failingStreak = "FailingStreak"
            }
        }

        enum CodingKeys: String, CodingKey {
            case status = "Status"
            case running = "Running"
            case paused = "Paused"
            case restarting = "Restarting"
            case oomKilled = "OOMKilled"
            case dead = "Dead"
            case pid = "Pid"
            case exitCode = "ExitCode"
            case error = "Error"
            case startedAt = "StartedAt"
            case finishedAt = "FinishedAt"
            case health = "Health"
        }
    }

    public struct Config: Codable, Sendable, Equatable {
        public var image: String?
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var env: [String]?
        public var labels: [String: String]?
        public var user: String?
        public var workingDir: String?
        public var tty: Bool?
        public var openStdin: Bool?
        public var stopTimeout: Int?

        enum CodingKeys: String, CodingKey {
            case image = "Image"
            case cmd = "Cmd"
            case entrypoint = "Entrypoint"
            case env = "Env"
            case labels = "Labels"
            case user = "User"
            case workingDir = "WorkingDir"
            case tty = "Tty"
            case openStdin = "OpenStdin"
            case stopTimeout = "StopTimeout"
        }
    }

    public struct NetworkSettings: Codable, Sendable, Equatable {
        public var ipAddress: String?
        public var gateway: String?
        /// `"8080/tcp"` → bindings (`null` when not published).
        public var ports: [String: [PortBinding]?]?
        public var networks: [String: Endpoint]?

        public struct Endpoint: Codable, Sendable, Equatable {
            public var networkID: String?
            public var endpointID: String?
            public var ipAddress: String?
            public var gateway: String?
            public var macAddress: String?
            enum CodingKeys: String, CodingKey {
                case networkID = "NetworkID"
                case endpointID = "EndpointID"
                case ipAddress = "IPAddress"
                case gateway = "Gateway"
                case macAddress = "MacAddress"
            }
        }

        enum CodingKeys: String, CodingKey {
            case ipAddress = "IPAddress"
            case gateway = "Gateway"
            case ports = "Ports"
            case networks = "Networks"
        }
    }

    public struct MountPoint: Codable, Sendable, Equatable {
        public var type: String?
        public var source: String?
        public var destination: String?
        public var rw: Bool?
        enum CodingKeys: String, CodingKey {
            case type = "Type"
            case source = "Source"
            case destination = "Destination"
            case rw = "RW"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case name = "Name"
        case created = "Created"
        case image = "Image"
        case restartCount = "RestartCount"
        case state = "State"
        case config = "Config"
        case hostConfig = "HostConfig"
        case networkSettings = "NetworkSettings"
        case mounts = "Mounts"
    }

    /// The container's address on a network (the first non-empty one when `network` is nil).
    public func ipAddress(network: String? = nil) -> String? {
        let networks = networkSettings?.networks ?? [:]
        if let network { return networks[network]?.ipAddress.flatMap { $0.isEmpty ? nil : $0 } }
        if let ip = networkSettings?.ipAddress, !ip.isEmpty { return ip }
        return networks.keys.sorted().lazy.compactMap { networks[$0]?.ipAddress }.first { !$0.isEmpty }
    }
}

/// One row of `GET /containers/json`.
public struct ContainerSummary: Codable, Sendable, Equatable {
    public var id: String
    public var names: [String]?
    public var image: String?
    public var imageID: String?
    public var command: String?
    public var created: Int64?
    /// `created`, `running`, `paused`, `exited`, …
    public var state: String?
    /// Human text, e.g. `Up 3 seconds`.
    public var status: String?
    public var labels: [String: String]?

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case names = "Names"
        case image = "Image"
        case imageID = "ImageID"
        case command = "Command"
        case created = "Created"
        case state = "State"
        case status = "Status"
        case labels = "Labels"
    }
}

/// `GET /containers/{id}/stats?stream=false` (the fields tandem uses).
public struct ContainerStats: Codable, Sendable, Equatable {
    public var read: String?
    public var memoryStats: MemoryStats?
    public var cpuStats: CPUStats?
    public var precpuStats: CPUStats?
    public var pidsStats: PidsStats?

    public struct MemoryStats: Codable, Sendable, Equatable {
        public var usage: Int64?
        public var maxUsage: Int64?
        public var limit: Int64?
        enum CodingKeys: String, CodingKey {
            case usage
            case maxUsage = "max_usage"
            case limit
        }
    }

    public struct CPUStats: Codable, Sendable, Equatable {
        public var cpuUsage: CPUUsage?
        public var systemCPUUsage: Int64?
        public var onlineCPUs: Int?

        public struct CPUUsage: Codable, Sendable, Equatable {
            public var totalUsage: Int64?
            public var usageInKernelmode: Int64?
            public var usageInUsermode: Int64?
            enum CodingKeys: String, CodingKey {
                case totalUsage = "total_usage"
                case usageInKernelmode = "usage_in_kernelmode"
                case usageInUsermode = "usage_in_usermode"
            }
        }

        enum CodingKeys: String, CodingKey {
            case cpuUsage = "cpu_usage"
            case systemCPUUsage = "system_cpu_usage"
            case onlineCPUs = "online_cpus"
        }
    }

    public struct PidsStats: Codable, Sendable, Equatable {
        public var current: Int?
        public var limit: Int64?
    }

    enum CodingKeys: String, CodingKey {
        case read
        case memoryStats = "memory_stats"
        case cpuStats = "cpu_stats"
        case precpuStats = "precpu_stats"
        case pidsStats = "pids_stats"
    }
}
