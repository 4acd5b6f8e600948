import FunctionMode
import NIOCore

/// The command runner (`command` contract in function mode: one container
/// per event) as a runner.
struct CommandRunner: InvocationRunner {
    let commands: CommandFunctions

    var kind: RunnerKind { .commandRunner }

    func deploy(_ workload: DeployedWorkload) async throws {
        guard let definition = workload.function else { throw RunnerMismatch(workload: workload.name, kind: kind) }
        commands.deploy(definition)
    }

    func remove(_ name: String) async { commands.undeploy(name) }

    /// Command containers live for one event: no environment to show.
    func views() -> [WorkloadView] { [] }

    /// Refuses new events; those in flight end on their own timeouts.
    func drain(within: Duration) { commands.drain() }

    func shutdown() async { await commands.shutdown() }

    /// Nothing runs between events: waits until a drain is over (nothing in
    /// flight any more) or the task is cancelled.
    func run() async {
        while !Task.isCancelled, !commands.isDrained {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func invoke(
        _ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool, requestID: InvocationID?,
        claimReport: Bool
    ) async -> InvocationResult {
        await commands.invoke(name, payload: payload, clientContext: clientContext, includeLog: includeLog,
                              claimReport: claimReport)
    }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                completion: @escaping @Sendable (InvocationResult) -> Void) {
        Task { completion(await commands.invoke(name, payload: payload, clientContext: clientContext, includeLog: false)) }
    }

    /// A command reads its request from stdin, as an API Gateway event.
    func forward(_ name: String, request: () -> ForwardedRequest,
                 completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        false
    }
}
