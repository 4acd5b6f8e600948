import GRDB

/// One invocation in the ledger (table `invocation`).
///
/// Times are milliseconds since the Unix epoch; durations are milliseconds.
/// The row id is internal: a request id is not unique (asynchronous retries keep it).
public struct InvocationRecord: Codable, Sendable, Hashable {
    /// What called the workload. Stored as text.
    public enum Trigger: String, Codable, Sendable, Hashable, CaseIterable {
        case invoke, event, http, schedule, queue, watch
    }

    /// How the invocation ended. Stored as text.
    public enum Outcome: String, Codable, Sendable, Hashable, CaseIterable {
        case success
        /// The function returned an error.
        case error
        /// It ran past its timeout.
        case timeout
        /// The process exited during the invocation.
        case crash
        /// It was killed for exceeding its memory limit.
        case oom
        /// Initialisation failed (cold start).
        case initError = "init_error"
        /// Refused before running (throttled, over concurrency).
        case rejected
        /// No environment or replica could take it.
        case unavailable
    }

    public var requestID: String
    public var workload: String
    public var mode: RunMode
    public var trigger: Trigger
    /// When the invocation started, ms since the epoch.
    public var startedAt: Int64
    /// Measured run time in ms (not including init).
    public var durationMs: Double
    /// What Lambda would bill: whole ms, rounded up.
    public var billedDurationMs: Int64
    public var memorySizeMB: Int
    public var maxMemoryUsedMB: Int?
    /// Set on cold starts: time spent initialising the environment, in ms.
    public var initDurationMs: Double?
    public var cold: Bool
    /// billedDurationMs / 1000 × memorySizeMB / 1024.
    public var gbSeconds: Double
    public var outcome: Outcome
    public var errorType: String?
    public var environmentID: String?

    /// Creates a ledger record.
    ///
    /// - Parameter billedDurationMs: `nil` bills like Lambda: `durationMs` rounded up to the
    ///   next whole millisecond (at least 1). Pass a value to bill differently (for example
    ///   to include the init phase). GB-seconds are computed from the billed duration.
    public init(
        requestID: String,
        workload: String,
        mode: RunMode,
        trigger: Trigger,
        startedAt: Int64,
        durationMs: Double,
        billedDurationMs: Int64? = nil,
        memorySizeMB: Int,
        maxMemoryUsedMB: Int? = nil,
        initDurationMs: Double? = nil,
        cold: Bool,
        outcome: Outcome,
        errorType: String? = nil,
        environmentID: String? = nil
    ) {
        let billed = billedDurationMs ?? Self.billedMilliseconds(durationMs)
        self.requestID = requestID
        self.workload = workload
        self.mode = mode
        self.trigger = trigger
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.billedDurationMs = billed
        self.memorySizeMB = memorySizeMB
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.initDurationMs = initDurationMs
        self.cold = cold
        self.gbSeconds = Self.gbSeconds(billedMs: billed, memorySizeMB: memorySizeMB)
        self.outcome = outcome
        self.errorType = errorType
        self.environmentID = environmentID
    }

    /// Lambda's billing granularity: 1 ms, rounded up; a positive duration bills at least 1 ms.
    public static func billedMilliseconds(_ durationMs: Double) -> Int64 {
        guard durationMs.isFinite, durationMs > 0 else { return 0 }
        return Int64(durationMs.rounded(.up))
    }

    /// GB-seconds for a billed duration at a memory size (MB / 1024 = GB, as Lambda does).
    public static func gbSeconds(billedMs: Int64, memorySizeMB: Int) -> Double {
        Double(billedMs) / 1000 * Double(memorySizeMB) / 1024
    }

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case requestID = "request_id"
        case workload
        case mode
        case trigger
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case billedDurationMs = "billed_duration_ms"
        case memorySizeMB = "memory_size_mb"
        case maxMemoryUsedMB = "max_memory_used_mb"
        case initDurationMs = "init_duration_ms"
        case cold
        case gbSeconds = "gb_seconds"
        case outcome
        case errorType = "error_type"
        case environmentID = "environment_id"
    }
}

extension InvocationRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "invocation"
}

/// Aggregates over a workload's ledger, for `tandem explain` and the comparison report.
public struct InvocationSummary: Sendable, Hashable {
    public var count: Int
    /// Invocations whose outcome is not `success`.
    public var errors: Int
    public var coldStarts: Int
    /// Count per outcome (outcomes that did not occur are absent).
    public var outcomes: [InvocationRecord.Outcome: Int]
    /// Duration percentiles in ms (nearest rank); `nil` when there is no invocation.
    public var p50DurationMs: Double?
    public var p90DurationMs: Double?
    public var p99DurationMs: Double?
    /// How many of the most recent invocations the percentiles were computed from
    /// (all of them unless there were more than the sample limit).
    public var percentileSampleSize: Int
    public var totalGBSeconds: Double
    public var totalBilledMs: Int64

    public init(
        count: Int = 0, errors: Int = 0, coldStarts: Int = 0,
        outcomes: [InvocationRecord.Outcome: Int] = [:],
        p50DurationMs: Double? = nil, p90DurationMs: Double? = nil, p99DurationMs: Double? = nil,
        percentileSampleSize: Int = 0, totalGBSeconds: Double = 0, totalBilledMs: Int64 = 0
    ) {
        self.count = count
        self.errors = errors
        self.coldStarts = coldStarts
        self.outcomes = outcomes
        self.p50DurationMs = p50DurationMs
        self.p90DurationMs = p90DurationMs
        self.p99DurationMs = p99DurationMs
        self.percentileSampleSize = percentileSampleSize
        self.totalGBSeconds = totalGBSeconds
        self.totalBilledMs = totalBilledMs
    }

    /// The nearest-rank percentile of sorted values: the smallest value such that at least
    /// `p` of the values are less than or equal to it. `p` is in 0...1.
    public static func percentile(_ p: Double, ofSorted sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
