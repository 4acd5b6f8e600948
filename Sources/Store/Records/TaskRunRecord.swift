import GRDB

/// One run of a task in the ledger (table `task_run`): how it ended, what the
/// engine measured, and what Fargate would bill for it.
public struct TaskRunRecord: Codable, Sendable, Hashable {
    public var runID: String
    public var workload: String
    public var trigger: InvocationRecord.Trigger
    /// Attempts made (re-runs after failures included; 0 when cancelled before any started).
    public var attempts: Int
    /// `succeeded`, `failed`, `timedOut`, `outOfMemory` or `cancelled`.
    public var outcome: String
    public var exitCode: Int?
    /// Said to the operator: "exited with code 3".
    public var reason: String
    /// When its last attempt started, ms since the epoch.
    public var startedAt: Int64?
    /// Run time of its last attempt, ms.
    public var durationMs: Double
    public var cpuSeconds: Double?
    public var maxMemoryMB: Int?
    /// Its memory limit, MiB.
    public var memoryMB: Int
    /// The vCPU of the Fargate size it is billed as.
    public var vcpu: Double
    /// Fargate bills per second with a one-minute minimum.
    public var billedSeconds: Double
    public var costUSD: Double

    public init(
        runID: String, workload: String, trigger: InvocationRecord.Trigger, attempts: Int, outcome: String,
        exitCode: Int?, reason: String, startedAt: Int64?, durationMs: Double, cpuSeconds: Double?, maxMemoryMB: Int?,
        memoryMB: Int, vcpu: Double, billedSeconds: Double, costUSD: Double
    ) {
        self.runID = runID
        self.workload = workload
        self.trigger = trigger
        self.attempts = attempts
        self.outcome = outcome
        self.exitCode = exitCode
        self.reason = reason
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.cpuSeconds = cpuSeconds
        self.maxMemoryMB = maxMemoryMB
        self.memoryMB = memoryMB
        self.vcpu = vcpu
        self.billedSeconds = billedSeconds
        self.costUSD = costUSD
    }

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case runID = "run_id"
        case workload, trigger, attempts, outcome
        case exitCode = "exit_code"
        case reason
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case cpuSeconds = "cpu_seconds"
        case maxMemoryMB = "max_memory_mb"
        case memoryMB = "memory_mb"
        case vcpu
        case billedSeconds = "billed_seconds"
        case costUSD = "cost_usd"
    }
}

extension TaskRunRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "task_run"
}
