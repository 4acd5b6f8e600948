/// Everything placement needs to know about one workload.
///
/// Placement does not read the manifest itself: `PlacementInput(workload:)`
/// adapts a parsed `Manifest.Workload`, and tests build inputs directly.
/// Times are in seconds and memory in MiB so the model stays plain arithmetic.
public struct PlacementInput: Sendable, Hashable {
    /// The mode the manifest asks for; `auto` lets placement choose.
    public enum RequestedMode: String, Sendable, Hashable, CaseIterable, Codable {
        case auto, function, service, task
    }

    /// How the code inside the image talks (see DESIGN.md, "contract").
    public enum Contract: String, Sendable, Hashable, CaseIterable, Codable {
        /// Pulls events from the Lambda Runtime API; never exits by itself.
        case lambda
        /// Listens on `$PORT`; never exits by itself.
        case http
        /// One process per event: event on stdin, result on stdout, then exits.
        /// The only contract that can run as a run-to-completion task.
        case command
    }

    /// Whether the workload keeps state between requests.
    public enum State: String, Sendable, Hashable, CaseIterable, Codable {
        case stateless, stateful
    }

    /// Concurrency settings.
    public struct Concurrency: Sendable, Hashable {
        /// Function mode: the most environments that may run at once (`nil`: no limit).
        public var reserved: Int?
        /// Function mode: environments kept initialised and warm at all times.
        public var provisioned: Int
        /// Service mode: requests one replica serves at the same time.
        public var perReplica: Int

        public init(reserved: Int? = nil, provisioned: Int = 0, perReplica: Int = 1) {
            self.reserved = reserved
            self.provisioned = provisioned
            self.perReplica = perReplica
        }
    }

    /// Service mode: the replica range the autoscaler keeps to.
    public struct Replicas: Sendable, Hashable {
        public var min: Int
        public var max: Int

        public init(min: Int = 1, max: Int = 1) {
            self.min = min
            self.max = max
        }
    }

    /// What the manifest says about the traffic to expect (`traffic:`).
    public struct TrafficHints: Sendable, Hashable {
        /// Mean request rate, requests per second.
        public var ratePerSecond: Double?
        /// Mean time to serve one request, seconds.
        public var meanDurationSeconds: Double?
        /// How the requests are spread over time.
        public var pattern: Traffic.Pattern?
        /// The latency the p99 must stay under, seconds.
        public var latencySLOSeconds: Double?

        public init(
            ratePerSecond: Double? = nil,
            meanDurationSeconds: Double? = nil,
            pattern: Traffic.Pattern? = nil,
            latencySLOSeconds: Double? = nil
        ) {
            self.ratePerSecond = ratePerSecond
            self.meanDurationSeconds = meanDurationSeconds
            self.pattern = pattern
            self.latencySLOSeconds = latencySLOSeconds
        }
    }

    /// The workload's name in the manifest.
    public var name: String
    /// The requested mode (`mode:`), `auto` by default.
    public var mode: RequestedMode
    public var contract: Contract
    /// The memory limit of one environment or replica, MiB.
    public var memoryMiB: Int
    /// CPUs of one replica, when the manifest says (`cpus:`); otherwise
    /// service mode uses the smallest Fargate size that holds the memory.
    public var cpus: Double?
    /// The longest one request (or one task run) may take, seconds.
    public var timeoutSeconds: Double
    public var state: State
    /// Streaming responses or websockets: connections that outlive a request.
    public var longLivedConnections: Bool
    public var concurrency: Concurrency
    public var replicas: Replicas
    public var traffic: TrafficHints
    /// How long an idle function environment is kept before it is reaped,
    /// seconds; `nil` uses ``PlacementModel/idleReapSeconds``.
    public var idleReapSeconds: Double?
    /// Runs per second its schedule triggers make; the rate when `traffic`
    /// gives none.
    public var scheduledRunsPerSecond: Double
    /// Whether an http route calls it (a task cannot serve one).
    public var servesHTTP: Bool

    public init(
        name: String,
        mode: RequestedMode = .auto,
        contract: Contract = .http,
        memoryMiB: Int = 512,
        cpus: Double? = nil,
        timeoutSeconds: Double = 30,
        state: State = .stateless,
        longLivedConnections: Bool = false,
        concurrency: Concurrency = Concurrency(),
        replicas: Replicas = Replicas(),
        traffic: TrafficHints = TrafficHints(),
        idleReapSeconds: Double? = nil,
        scheduledRunsPerSecond: Double = 0,
        servesHTTP: Bool = false
    ) {
        self.name = name
        self.mode = mode
        self.contract = contract
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.timeoutSeconds = timeoutSeconds
        self.state = state
        self.longLivedConnections = longLivedConnections
        self.concurrency = concurrency
        self.replicas = replicas
        self.traffic = traffic
        self.idleReapSeconds = idleReapSeconds
        self.scheduledRunsPerSecond = scheduledRunsPerSecond
        self.servesHTTP = servesHTTP
    }
}

/// The traffic placement decides for: from the manifest's hints, or
/// observed by a running controller.
public struct Traffic: Sendable, Hashable, Codable {
    /// Where the figures come from.
    public enum Source: String, Sendable, Hashable, Codable {
        /// `traffic:` in the manifest.
        case hints
        /// Measured by the controller.
        case observed
    }

    /// How requests are spread over time.
    public enum Pattern: String, Sendable, Hashable, CaseIterable, Codable {
        /// Independent arrivals at a roughly constant mean rate (a Poisson stream).
        case steady
        /// Requests arrive in clumps (see ``ColdStartModel``).
        case bursty
        /// Few, isolated requests: a Poisson stream at a low rate.
        case sparse
    }

    /// Mean request rate, requests per second.
    public var ratePerSecond: Double
    /// Mean time to serve one request, seconds.
    public var meanDurationSeconds: Double
    public var pattern: Pattern
    public var source: Source
    /// Which of the figures were not given and took a default
    /// (`"rate"`: 0 assumed; `"rate-from-schedule"`: the schedules' runs;
    /// `"duration"`).
    public var assumed: [String]

    public init(
        ratePerSecond: Double,
        meanDurationSeconds: Double,
        pattern: Pattern = .steady,
        source: Source = .observed,
        assumed: [String] = []
    ) {
        self.ratePerSecond = ratePerSecond
        self.meanDurationSeconds = meanDurationSeconds
        self.pattern = pattern
        self.source = source
        self.assumed = assumed
    }
}
