/// A validated `tandem.yaml`: defaults already applied to every workload.
public struct Manifest: Hashable, Sendable {
    /// Schema version; always 1 today.
    public var version: Int
    /// Price overrides for the cost model (`nil` fields: use the built-in prices).
    public var pricing: Pricing
    /// Queues declared under `queues:`, in file order.
    public var queues: [Queue]
    /// Workloads, in file order.
    public var workloads: [Workload]

    /// Creates a manifest; the parser is the usual way to get one.
    public init(version: Int = 1, pricing: Pricing = Pricing(), queues: [Queue] = [], workloads: [Workload] = []) {
        self.version = version
        self.pricing = pricing
        self.queues = queues
        self.workloads = workloads
    }

    /// The workload called `name`, if any.
    public func workload(named name: String) -> Workload? {
        workloads.first { $0.name == name }
    }

    /// The queue called `name`, if any.
    public func queue(named name: String) -> Queue? {
        queues.first { $0.name == name }
    }
}

/// One entry of `workloads:`: an image plus how it is called and where it may run.
public struct Workload: Hashable, Sendable {
    /// The key under `workloads:` (a DNS label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63).
    public var name: String
    /// Where the image comes from.
    public var source: ImageSource
    /// How the code inside the image talks.
    public var contract: Contract
    /// Where it should run; `.auto` lets placement choose.
    public var mode: Mode
    /// Lambda handler name (`lambda` contract only), passed as `_HANDLER`.
    public var handler: String?
    /// Overrides the image's CMD.
    public var command: [String]?
    /// Overrides the image's ENTRYPOINT.
    public var entrypoint: [String]?
    /// Environment variables, merged key-wise with `defaults.env`, in file order.
    public var env: [EnvironmentVariable]
    /// The port the code listens on (`http` contract only; 8080 when not given, like Knative's `$PORT`).
    public var port: Int?
    /// Memory limit (default 512Mi).
    public var memory: ByteSize
    /// CPUs; `nil` means "in proportion to memory" (Lambda gives 1 vCPU per 1769 MB).
    public var cpus: Double?
    /// Longest run of one invocation (function mode) or task; `nil`: Lambda's 3s default
    /// in function mode, no limit for services and tasks.
    public var timeout: Duration?
    /// Size of the `/tmp` tmpfs (default 512Mi, Lambda's default ephemeral storage).
    public var tmp: ByteSize
    /// Concurrency limits.
    public var concurrency: Concurrency
    /// Replica bounds for service mode; `nil` when not given.
    public var replicas: Replicas?
    /// Health check for service mode; `nil` when not given.
    public var health: HealthCheck?
    /// Retries of a failed asynchronous event (0…10; Lambda's default is 2), `nil` when not given.
    public var retries: Int?
    /// Oldest age of an asynchronous event before it goes to the dead-letter queue.
    public var maxEventAge: Duration?
    /// Queue (declared under `queues:`) that receives events that failed every retry.
    public var deadLetter: String?
    /// Whether the workload keeps state between requests.
    public var state: StateKind
    /// Time between SIGTERM and SIGKILL when a replica or task is stopped
    /// (service and task mode; at most 120s like ECS); `nil`: 10s.
    public var stopTimeout: Duration?
    /// Where a stateful workload's data lives inside each replica (`/data`):
    /// a named volume per replica, kept across restarts and rollouts.
    public var volume: String?
    /// What calls it, in file order.
    public var triggers: [Trigger]
    /// Expected traffic, used by placement until real traffic is observed.
    public var traffic: TrafficHints?

    /// Creates a workload with the manifest's defaults for everything not given.
    public init(
        name: String, source: ImageSource, contract: Contract, mode: Mode = .auto,
        handler: String? = nil, command: [String]? = nil, entrypoint: [String]? = nil,
        env: [EnvironmentVariable] = [], port: Int? = nil,
        memory: ByteSize = Workload.defaultMemory, cpus: Double? = nil, timeout: Duration? = nil,
        tmp: ByteSize = Workload.defaultTmp, concurrency: Concurrency = Concurrency(),
        replicas: Replicas? = nil, health: HealthCheck? = nil, retries: Int? = nil,
        maxEventAge: Duration? = nil, deadLetter: String? = nil, state: StateKind = .stateless,
        stopTimeout: Duration? = nil, volume: String? = nil,
        triggers: [Trigger] = [], traffic: TrafficHints? = nil
    ) {
        self.name = name
        self.source = source
        self.contract = contract
        self.mode = mode
        self.handler = handler
        self.command = command
        self.entrypoint = entrypoint
        self.env = env
        self.port = port ?? (contract == .http ? Workload.defaultHTTPPort : nil)
        self.memory = memory
        self.cpus = cpus
        self.timeout = timeout
        self.tmp = tmp
        self.concurrency = concurrency
        self.replicas = replicas
        self.health = health
        self.retries = retries
        self.maxEventAge = maxEventAge
        self.deadLetter = deadLetter
        self.state = state
        self.stopTimeout = stopTimeout
        self.volume = volume
        self.triggers = triggers
        self.traffic = traffic
    }

    /// Memory when none is given: 512Mi.
    public static let defaultMemory = ByteSize.mebibytes(512)
    /// `/tmp` when none is given: 512Mi (Lambda's default ephemeral storage).
    public static let defaultTmp = ByteSize.mebibytes(512)
    /// Port of an `http` workload when none is given: 8080 (Knative's default `$PORT`).
    public static let defaultHTTPPort = 8080
    /// Stop timeout of a replica or task when none is given: 10s (like `docker stop`).
    public static let defaultStopTimeout = Duration.seconds(10)
    /// Function-mode timeout when none is given: 3s (Lambda's default).
    public static let defaultFunctionTimeout = Duration.seconds(3)
}

/// Where a workload's image comes from.
public enum ImageSource: Hashable, Sendable {
    /// A local image by reference (`image: thumb:latest`); never pulled from a registry.
    case image(String)
    /// Built from a folder with a Dockerfile (`build: images/thumb`, or
    /// `build: {context: images/thumb, dockerfile: Dockerfile.prod}`); paths relative to the manifest.
    case build(context: String, dockerfile: String?)
}

/// How the code inside the image talks.
public enum Contract: String, Hashable, Sendable, CaseIterable {
    /// Pulls events from the Lambda Runtime API.
    case lambda
    /// Listens for HTTP on `$PORT`.
    case http
    /// One process per event: event on stdin, result on stdout.
    case command
}

/// Where the controller runs a workload.
public enum Mode: String, Hashable, Sendable, CaseIterable {
    /// Placement chooses.
    case auto
    /// Lambda-style: on-demand environments, one request at a time each.
    case function
    /// Fargate-style long-lived replicas.
    case service
    /// Fargate-style run-to-completion task.
    case task
}

/// Whether a workload keeps state between requests (stateful ones cannot run in function mode).
public enum StateKind: String, Hashable, Sendable, CaseIterable {
    case stateless, stateful
}

/// Shape of expected traffic.
public enum TrafficPattern: String, Hashable, Sendable, CaseIterable {
    /// Roughly constant.
    case steady
    /// Spikes over a low base.
    case bursty
    /// Long idle gaps between requests.
    case sparse
}

/// One environment variable.
public struct EnvironmentVariable: Hashable, Sendable {
    /// Name.
    public var name: String
    /// Value (numbers and booleans are kept as written).
    public var value: String

    /// Creates a variable.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// `concurrency:`. All optional.
public struct Concurrency: Hashable, Sendable {
    /// Most environments at once (function mode), like Lambda's reserved concurrency.
    public var reserved: Int?
    /// Environments kept initialised and warm, like Lambda's provisioned concurrency; ≤ `reserved`.
    public var provisioned: Int?
    /// Requests one replica serves at once (service mode), like Knative's containerConcurrency.
    public var perReplica: Int?

    /// Creates limits.
    public init(reserved: Int? = nil, provisioned: Int? = nil, perReplica: Int? = nil) {
        self.reserved = reserved
        self.provisioned = provisioned
        self.perReplica = perReplica
    }
}

/// `replicas: {min, max}` for service mode.
public struct Replicas: Hashable, Sendable {
    /// Fewest replicas (default 1; 0 allows scale to zero).
    public var min: Int
    /// Most replicas (default `max(min, 1)`); never below `min`.
    public var max: Int

    /// Creates bounds.
    public init(min: Int, max: Int) {
        self.min = min
        self.max = max
    }
}

/// `health:` for service mode, with Docker/ECS defaults.
public struct HealthCheck: Hashable, Sendable {
    /// What to probe.
    public enum Probe: Hashable, Sendable {
        /// `GET PATH` on the workload's port must answer 2xx/3xx (`http` contract only).
        case http(path: String)
        /// A command run inside the container must exit 0.
        case command([String])
    }

    /// What to probe.
    public var probe: Probe
    /// Time between probes (default 30s).
    public var interval: Duration
    /// Time one probe may take (default 5s).
    public var timeout: Duration
    /// Failed probes in a row before the replica is unhealthy (default 3).
    public var retries: Int
    /// Grace time after start during which failures do not count (default 0s).
    public var startPeriod: Duration

    /// Creates a check.
    public init(probe: Probe, interval: Duration = .seconds(30), timeout: Duration = .seconds(5),
                retries: Int = 3, startPeriod: Duration = .seconds(0)) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.startPeriod = startPeriod
    }
}

/// What calls a workload.
public enum Trigger: Hashable, Sendable {
    /// An HTTP route on the gateway.
    case http(HTTPRoute)
    /// A timer.
    case schedule(Schedule)
    /// Files appearing in a folder (object events).
    case watch(path: String, pattern: String)
    /// Messages on a queue declared under `queues:`; up to `batchSize` per invocation (default 10).
    case queue(name: String, batchSize: Int)
}

/// `http: {path, methods}`.
public struct HTTPRoute: Hashable, Sendable {
    /// Path on the gateway, starting with `/`; `{name}` matches one segment, a final `{name+}` the rest.
    public var path: String
    /// Upper-case methods; empty means any method.
    public var methods: [String]

    /// Creates a route.
    public init(path: String, methods: [String] = []) {
        self.path = path
        self.methods = methods
    }
}

/// `traffic:`: expected traffic, used by placement until real traffic is observed.
public struct TrafficHints: Hashable, Sendable {
    /// Expected requests per second (written `5/s`, `300/m`, `10/h`, `100/d`).
    public var rate: Rate?
    /// Typical time one request takes.
    public var duration: Duration?
    /// Shape of the traffic.
    public var pattern: TrafficPattern?
    /// Latency objective for a request (cold starts count against it).
    public var latencySLO: Duration?
    /// Long-lived connections (websockets, server-sent events, streaming): rules out function mode.
    public var streaming: Bool

    /// Creates hints.
    public init(rate: Rate? = nil, duration: Duration? = nil, pattern: TrafficPattern? = nil,
                latencySLO: Duration? = nil, streaming: Bool = false) {
        self.rate = rate
        self.duration = duration
        self.pattern = pattern
        self.latencySLO = latencySLO
        self.streaming = streaming
    }
}

/// A queue declared under `queues:`, with SQS-like settings.
public struct Queue: Hashable, Sendable {
    /// The key under `queues:` (a DNS label).
    public var name: String
    /// How long a received message stays hidden before it is delivered again (default 30s, like SQS).
    public var visibilityTimeout: Duration
    /// Deliveries before a message moves to `deadLetter` (default 3 when `deadLetter` is set).
    public var maxReceiveCount: Int?
    /// Queue that receives messages delivered `maxReceiveCount` times.
    public var deadLetter: String?

    /// Creates a queue.
    public init(name: String, visibilityTimeout: Duration = .seconds(30), maxReceiveCount: Int? = nil, deadLetter: String? = nil) {
        self.name = name
        self.visibilityTimeout = visibilityTimeout
        self.maxReceiveCount = maxReceiveCount
        self.deadLetter = deadLetter
    }
}

/// `pricing:` overrides, in US dollars. `nil` fields keep the cost model's own prices.
public struct Pricing: Hashable, Sendable {
    /// Lambda: price of one request (AWS list price: 0.0000002, i.e. $0.20 per million).
    public var lambdaPerRequest: Double?
    /// Lambda: price of one GB-second of memory × duration (AWS x86 list price: 0.0000166667).
    public var lambdaPerGBSecond: Double?
    /// Fargate: price of one vCPU-hour (AWS Linux/x86 list price: 0.04048).
    public var fargatePerVCPUHour: Double?
    /// Fargate: price of one GB-hour of memory (AWS Linux/x86 list price: 0.004445).
    public var fargatePerGBHour: Double?

    /// Creates overrides.
    public init(lambdaPerRequest: Double? = nil, lambdaPerGBSecond: Double? = nil,
                fargatePerVCPUHour: Double? = nil, fargatePerGBHour: Double? = nil) {
        self.lambdaPerRequest = lambdaPerRequest
        self.lambdaPerGBSecond = lambdaPerGBSecond
        self.fargatePerVCPUHour = fargatePerVCPUHour
        self.fargatePerGBHour = fargatePerGBHour
    }
}
