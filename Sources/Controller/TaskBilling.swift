import Placement
import ServiceMode
import Store

/// What Fargate would bill for a task run: the smallest Fargate size that
/// holds its memory and CPUs, per second with a one-minute minimum.
struct TaskBilling: Sendable {
    let prices: Prices

    func size(of result: TaskRunResult) -> FargateSize {
        FargateSize(memoryMiB: Int(result.memoryBytes >> 20), cpus: result.cpus)
    }

    func bill(_ result: TaskRunResult) -> (billedSeconds: Double, cost: Double) {
        guard result.startedAtEpochMilliseconds != nil else { return (0, 0) }  // never ran
        let hourly = CostModel.replicaHourCost(size: size(of: result), prices: prices)
        let task = CostModel.task(runs: 1, durationSeconds: Self.seconds(result.duration), replicaHourCost: hourly)
        return (task.billedSecondsPerRun, task.total)
    }

    /// The ledger's row for a finished run.
    func record(_ result: TaskRunResult, trigger: InvocationRecord.Trigger = .invoke) -> TaskRunRecord {
        let (billed, cost) = bill(result)
        return TaskRunRecord(
            runID: result.id.rawValue, workload: result.task, trigger: trigger, attempts: result.attempts,
            outcome: result.end.kind.rawValue, exitCode: result.end.exitCode, reason: result.end.reason,
            startedAt: result.startedAtEpochMilliseconds, durationMs: Self.seconds(result.duration) * 1000,
            cpuSeconds: result.cpuSeconds, maxMemoryMB: result.maxMemoryBytes.map { Int($0 >> 20) },
            memoryMB: Int(result.memoryBytes >> 20), vcpu: size(of: result).vCPU, billedSeconds: billed, costUSD: cost)
    }

    static func seconds(_ duration: Swift.Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
