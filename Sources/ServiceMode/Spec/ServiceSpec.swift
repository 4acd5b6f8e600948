/// The desired state of one service: what each of its replicas runs and how
/// they are supervised. The controller makes it from the manifest; a backend
/// keeps that many healthy replicas of it running.
public struct ServiceSpec: Sendable, Equatable {
    /// The workload's name (a DNS label).
    public var name: String
    /// The version of this spec; a replica of another revision is replaced.
    public var revision: String
    /// The image every replica runs.
    public var image: String
    /// Replicas to keep running.
    public var replicas: Int
    /// The port the code listens on (`$PORT`), for traffic and readiness.
    public var port: Int
    /// Overrides of the image's CMD and ENTRYPOINT.
    public var command: [String]?
    public var entrypoint: [String]?
    /// Environment variables, in the manifest's order (`PORT` is added).
    public var environment: [(name: String, value: String)]
    /// Memory limit of one replica, in bytes.
    public var memoryBytes: Int64
    /// CPUs of one replica (nil: no limit set).
    public var cpus: Double?
    /// Size of the `/tmp` tmpfs, in bytes.
    public var tmpBytes: Int64
    /// When a replica is ready and whether it stays healthy.
    public var health: HealthPolicy
    /// Time between SIGTERM and SIGKILL when a replica is stopped (ECS's default: 30 s; tandem's: 10 s).
    public var stopTimeout: Duration
    /// Requests one replica serves at once (nil: no limit), like Knative's containerConcurrency.
    public var perReplica: Int?
    /// The longest a request may wait for its response head (nil: the gateway's default).
    public var requestTimeout: Duration?
    /// A stateful service's data folder inside each replica (a named volume
    /// per replica slot, kept across restarts); nil for stateless ones.
    public var volumePath: String?

    public init(
        name: String, revision: String, image: String, replicas: Int, port: Int,
        command: [String]? = nil, entrypoint: [String]? = nil, environment: [(name: String, value: String)] = [],
        memoryBytes: Int64 = 512 << 20, cpus: Double? = nil, tmpBytes: Int64 = 64 << 20,
        health: HealthPolicy = HealthPolicy(), stopTimeout: Duration = .seconds(10), perReplica: Int? = nil,
        requestTimeout: Duration? = nil, volumePath: String? = nil
    ) {
        self.name = name
        self.revision = revision
        self.image = image
        self.replicas = max(0, replicas)
        self.port = port
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.memoryBytes = memoryBytes
        self.cpus = cpus
        self.tmpBytes = tmpBytes
        self.health = health
        self.stopTimeout = stopTimeout
        self.perReplica = perReplica
        self.requestTimeout = requestTimeout
        self.volumePath = volumePath
    }

    public static func == (lhs: ServiceSpec, rhs: ServiceSpec) -> Bool {
        lhs.name == rhs.name && lhs.revision == rhs.revision && lhs.image == rhs.image && lhs.replicas == rhs.replicas
            && lhs.port == rhs.port && lhs.command == rhs.command && lhs.entrypoint == rhs.entrypoint
            && lhs.environment.map(\.name) == rhs.environment.map(\.name)
            && lhs.environment.map(\.value) == rhs.environment.map(\.value)
            && lhs.memoryBytes == rhs.memoryBytes && lhs.cpus == rhs.cpus && lhs.tmpBytes == rhs.tmpBytes
            && lhs.health == rhs.health && lhs.stopTimeout == rhs.stopTimeout && lhs.perReplica == rhs.perReplica
            && lhs.requestTimeout == rhs.requestTimeout && lhs.volumePath == rhs.volumePath
    }
}

/// How a replica is found ready, and kept healthy.
public struct HealthPolicy: Sendable, Equatable {
    /// What is probed.
    public enum Probe: Sendable, Equatable {
        /// The port accepts a connection (an http service without a health check).
        case port
        /// `GET PATH` on the port answers 2xx or 3xx.
        case http(path: String)
        /// A command run inside the container exits 0.
        case command([String])
    }

    public var probe: Probe
    /// Time between probes of a ready replica; nil: a ready replica is not
    /// probed again (only its exit is watched).
    public var interval: Duration?
    /// Time one probe may take.
    public var timeout: Duration
    /// Failed probes in a row before a ready replica is unhealthy.
    public var retries: Int
    /// Grace time after start during which failed probes do not count.
    public var startPeriod: Duration

    public init(probe: Probe = .port, interval: Duration? = nil, timeout: Duration = .seconds(5), retries: Int = 3,
                startPeriod: Duration = .zero) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.retries = max(1, retries)
        self.startPeriod = startPeriod
    }

    /// Time between probes of a replica that is not ready yet: short, so a
    /// replica takes traffic soon after its server listens.
    public var warmupInterval: Duration { min(.milliseconds(100), interval ?? .milliseconds(100)) }

    /// How long a replica may take to become ready before it is replaced:
    /// its start period plus `retries` intervals (Docker's and ECS's grace),
    /// and never under 30 s.
    public var readinessDeadline: Duration {
        max(.seconds(30), startPeriod + (interval ?? .seconds(10)) * retries + timeout)
    }
}
