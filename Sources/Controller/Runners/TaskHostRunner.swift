import Gateway
import ServiceMode

/// The task runner (task mode: run-to-completion containers started by
/// `tandem run`) as a runner.
struct TaskHostRunner: WorkloadRunner {
    let tasks: LocalTaskRunner
    let billing: TaskBilling

    var kind: RunnerKind { .taskRunner }

    func deploy(_ workload: DeployedWorkload) async throws {
        guard let spec = workload.task else { throw RunnerMismatch(workload: workload.name, kind: kind) }
        tasks.deploy(spec)
    }

    func remove(_ name: String) async { tasks.remove(name) }

    /// Tasks take no http requests (validate refuses an http route on one).
    func routeTarget(_ name: String) -> RouteTarget? { nil }

    func views() -> [WorkloadView] {
        tasks.views().map { view in
            WorkloadView(name: view.name, task: ProcessList.TaskRuns(
                running: view.running, waiting: view.waiting, reserved: view.reserved,
                recent: view.recent.map { ProcessList.TaskRun(billing.record($0)) }))
        }
    }

    func drain(within: Swift.Duration) { tasks.drain(within: within) }

    func shutdown() async { await tasks.shutdown() }

    func run() async { await tasks.run() }
}
