/// The figures behind a decision. Money is US dollars per month of
/// ``hoursPerMonth`` hours; rates are per second; times are seconds.
public struct Figures: Sendable, Hashable, Codable {
    /// Function mode, environments started on demand.
    public struct Function: Sendable, Hashable, Codable {
        /// Memory of one environment, GB (MiB / 1024).
        public var memoryGB: Double
        /// The mean duration rounded up to Lambda's 1 ms billing granularity.
        public var billedDurationSeconds: Double
        /// requests × $ per request.
        public var requestCost: Double
        /// requests × billed duration × GB.
        public var gbSeconds: Double
        /// GB-seconds × $ per GB-second.
        public var computeCost: Double
        /// requestCost + computeCost.
        public var monthlyCost: Double
        /// Environments busy at the peak (see ``ColdStartModel/peakConcurrency``).
        public var peakConcurrency: Double
        /// `reserved` concurrency, when the manifest caps it.
        public var reservedConcurrency: Int?
    }

    /// Function mode with provisioned concurrency.
    public struct Provisioned: Sendable, Hashable, Codable {
        /// Environments kept provisioned on average (autoscaled provisioned
        /// concurrency: max(declared, 1, rate × duration / utilisation target, and
        /// for bursty traffic the burst factor)).
        public var environments: Double
        /// Environments provisioned at the peak (the above, rounded up).
        public var environmentsAtPeak: Int
        /// environments × GB × seconds in the month.
        public var provisionedGBSeconds: Double
        /// provisioned GB-seconds × $ per provisioned GB-second.
        public var standingCost: Double
        /// requests × $ per request.
        public var requestCost: Double
        /// requests × billed duration × GB × $ per provisioned-duration GB-second.
        public var durationCost: Double
        /// standingCost + requestCost + durationCost.
        public var monthlyCost: Double
    }

    /// Service mode: always-on replicas.
    public struct Service: Sendable, Hashable, Codable {
        /// The Fargate size one replica is billed for.
        public var size: FargateSize
        /// vCPU × $ per vCPU-hour + GB × $ per GB-hour.
        public var replicaHourCost: Double
        /// Requests one replica serves at a time.
        public var perReplica: Int
        /// The utilisation the autoscaler aims at.
        public var utilisationTarget: Double
        /// Little's law: rate × duration / (per-replica concurrency × utilisation target).
        public var replicasForLoad: Double
        /// The replicas paid for on average: max(min replicas (at least 1), replicas for the load).
        public var replicasBilled: Double
        /// Replicas to run at the peak: the above, rounded up.
        public var replicasNeeded: Int
        public var replicasMin: Int
        public var replicasMax: Int
        /// replicas billed × hours × replica-hour cost.
        public var monthlyCost: Double
    }

    /// Task mode: one run-to-completion container per event.
    public struct Task: Sendable, Hashable, Codable {
        /// Whether it can run to completion: a `command` with no http route.
        public var possible: Bool
        /// The duration of one run billed by Fargate: per second, 1 minute minimum.
        public var billedSecondsPerRun: Double
        /// runs × billed seconds × replica-hour cost / 3600.
        public var monthlyCost: Double
    }

    /// The cold-start model and the latency objective.
    public struct Latency: Sendable, Hashable, Codable {
        /// How long an environment is kept idle before it is reaped.
        public var idleReapSeconds: Double
        /// What a cold start adds to a request.
        public var coldStartSeconds: Double
        /// Clump size for bursty traffic (see ``ColdStartModel``).
        public var burstFactor: Double
        /// The chance a request meets a cold start in function mode (on demand).
        public var coldStartProbability: Double
        /// The quantile the SLO applies to (0.99).
        public var quantile: Double
        /// The cold-start probability the decision compared with
        /// (1 − quantile, widened or narrowed by the hysteresis margin).
        public var riskThreshold: Double
        /// Estimated p99 in function mode (on demand): the mean duration,
        /// plus the cold start when more than 1 − quantile of requests meet one.
        public var functionP99Seconds: Double
        /// What cold starts add to the p99 (0 or the cold-start duration).
        public var addedLatencyP99Seconds: Double
        /// What cold starts add on average: probability × cold-start duration.
        public var meanAddedLatencySeconds: Double
        /// `latency_slo`, when the manifest sets one.
        public var sloSeconds: Double?
        /// Whether each option meets the SLO (all true without an SLO).
        public var functionMeetsSLO: Bool
        public var provisionedMeetsSLO: Bool
        public var serviceMeetsSLO: Bool
        public var taskMeetsSLO: Bool
    }

    /// Whether the chosen option fits the machine.
    public struct Capacity: Sendable, Hashable, Codable {
        public var machineMemoryMiB: Int
        /// Containers at the peak × memory limit.
        public var requiredMemoryMiB: Int
        /// Containers at the peak for the chosen option.
        public var containersAtPeak: Int
        public var fits: Bool
    }

    public var traffic: Traffic
    public var hoursPerMonth: Double
    /// rate × seconds in the month.
    public var monthlyRequests: Double
    public var function: Function
    public var provisioned: Provisioned
    public var service: Service
    public var task: Task
    /// The rate at which function (on demand) and service cost the same;
    /// function is cheaper below it. `nil` when function is cheaper at every rate.
    public var breakEvenRatePerSecond: Double?
    public var latency: Latency
    public var capacity: Capacity
    /// The hysteresis band: another option must be cheaper than the current
    /// one by more than this fraction before the decision switches.
    public var hysteresisBand: Double

    /// The monthly cost of an option.
    public func monthlyCost(_ option: Decision.Option) -> Double {
        switch option {
        case .function: function.monthlyCost
        case .provisioned: provisioned.monthlyCost
        case .service: service.monthlyCost
        case .task: task.monthlyCost
        }
    }

    /// Whether an option meets the latency SLO.
    public func meetsSLO(_ option: Decision.Option) -> Bool {
        switch option {
        case .function: latency.functionMeetsSLO
        case .provisioned: latency.provisionedMeetsSLO
        case .service: latency.serviceMeetsSLO
        case .task: latency.taskMeetsSLO
        }
    }
}
