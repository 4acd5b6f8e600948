/// `GET /version`.
public struct VersionInfo: Codable, Sendable, Equatable {
    public var version: String
    public var apiVersion: String
    public var minAPIVersion: String?
    public var os: String?
    public var arch: String?
    public var kernelVersion: String?
    public var components: [Component]?

    public struct Component: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case version = "Version"
        }
    }

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case apiVersion = "ApiVersion"
        case minAPIVersion = "MinAPIVersion"
        case os = "Os"
        case arch = "Arch"
        case kernelVersion = "KernelVersion"
        case components = "Components"
    }

    /// True for Podman's compatible API.
    public var isPodman: Bool {
        components?.contains { $0.name.lowercased().contains("podman") } ?? false
    }
}

/// `GET /info` (the fields tandem uses).
public struct SystemInfo: Codable, Sendable, Equatable {
    public var id: String?
    public var name: String?
    public var containers: Int?
    public var containersRunning: Int?
    public var containersPaused: Int?
    public var containersStopped: Int?
    public var images: Int?
    public var serverVersion: String?
    public var operatingSystem: String?
    public var kernelVersion: String?
    public var architecture: String?
    public var ncpu: Int?
    public var memTotal: Int64?
    public var driver: String?
    public var cgroupDriver: String?
    public var cgroupVersion: String?
    public var swarm: Swarm?

    public struct Swarm: Codable, Sendable, Equatable {
        public var nodeID: String?
        public var localNodeState: String?
        enum CodingKeys: String, CodingKey {
            case nodeID = "NodeID"
            case localNodeState = "LocalNodeState"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id = "ID"
        case name = "Name"
        case containers = "Containers"
        case containersRunning = "ContainersRunning"
        case containersPaused = "ContainersPaused"
        case containersStopped = "ContainersStopped"
        case images = "Images"
        case serverVersion = "ServerVersion"
        case operatingSystem = "OperatingSystem"
        case kernelVersion = "KernelVersion"
        case architecture = "Architecture"
        case ncpu = "NCPU"
        case memTotal = "MemTotal"
        case driver = "Driver"
        case cgroupDriver = "CgroupDriver"
        case cgroupVersion = "CgroupVersion"
        case swarm = "Swarm"
    }
}
