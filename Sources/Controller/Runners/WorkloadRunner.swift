import FunctionMode
import Gateway
import NIOCore

/// What runs the workloads of one ``RunnerKind``. The controller hands each
/// workload of its ``Deployment`` to the runner of its kind and knows nothing
/// of how the runner works.
protocol WorkloadRunner: Sendable {
    var kind: RunnerKind { get }
    /// Why this runner cannot run `workload` in this version (it is then
    /// reported and not started), or nil.
    func refusal(for workload: DeployedWorkload) -> String?
    /// Takes the runner's workloads when the controller starts: a runner whose
    /// containers outlive a controller adopts what an earlier run left.
    func start(_ workloads: [DeployedWorkload]) async throws
    /// Where an http route to `name` goes: a function invoker or a set of
    /// replicas; nil when the runner's workloads take no http requests.
    func routeTarget(_ name: String) -> RouteTarget?
    /// Adds a workload, or updates it to a new revision.
    func deploy(_ workload: DeployedWorkload) async throws
    /// Removes a workload and what runs it.
    func remove(_ name: String) async
    /// What `tandem ps` shows of the workloads this runner runs.
    func views() -> [WorkloadView]
    /// Refuses new work; accepted work has up to `within` to finish.
    func drain(within: Duration)
    /// Ends what still runs and removes every container the runner started;
    /// returns when they are gone. Safe to call more than once.
    func shutdown() async
    /// The runner's own work (timers, streams), until a drain is over or the
    /// task is cancelled.
    func run() async
}

extension WorkloadRunner {
    func refusal(for workload: DeployedWorkload) -> String? { nil }

    func start(_ workloads: [DeployedWorkload]) async throws {
        for workload in workloads { try await deploy(workload) }
    }
}

extension InvocationRunner {
    func routeTarget(_ name: String) -> RouteTarget? { .function(name) }
}

/// A runner whose workloads answer invocations (the Invoke API, the control
/// socket, asynchronous events and http routes reach them through ``FunctionRouter``).
protocol InvocationRunner: WorkloadRunner {
    /// Invokes and waits for the outcome (see ``FunctionHost/invoke(_:payload:clientContext:includeLog:requestID:claimReport:)``).
    func invoke(
        _ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool, requestID: InvocationID?,
        claimReport: Bool
    ) async -> InvocationResult
    /// Invokes and calls `completion` once with the outcome, from any thread.
    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                completion: @escaping @Sendable (InvocationResult) -> Void)
    /// Sends an http route's request as is to a workload that is an HTTP server
    /// (see ``FunctionInvoker/forward(_:request:completion:)``); false otherwise.
    func forward(_ name: String, request: () -> ForwardedRequest,
                 completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool
}

/// One workload as a runner shows it in `tandem ps`.
struct WorkloadView: Sendable {
    var name: String
    var environments: [ProcessList.Environment] = []
    /// A service's replicas and supervision.
    var service: ProcessList.Service?
    /// A task's runs.
    var task: ProcessList.TaskRuns?
}

/// A workload handed to a runner that cannot run it (a bug in the wiring).
struct RunnerMismatch: Error, CustomStringConvertible {
    let workload: String
    let kind: RunnerKind
    var description: String { "\(workload) cannot run on the \(kind.rawValue) runner" }
}
