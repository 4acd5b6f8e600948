import FunctionMode
import NIOCore

/// The function host (`lambda` and `http` contracts in function mode) as a runner.
struct FunctionHostRunner: InvocationRunner {
    let host: FunctionHost

    var kind: RunnerKind { .functionHost }

    func deploy(_ workload: DeployedWorkload) async throws {
        guard let definition = workload.function else { throw RunnerMismatch(workload: workload.name, kind: kind) }
        host.deploy(definition)
    }

    func remove(_ name: String) async { host.undeploy(name) }

    func views() -> [WorkloadView] {
        let byFunction = Dictionary(grouping: host.environmentViews, by: \.function)
        return byFunction.map { name, environments in
            WorkloadView(name: name, environments: environments.map {
                ProcessList.Environment(id: $0.id.rawValue, phase: $0.phase.rawValue,
                                        initialization: $0.initialization.rawValue, invocations: $0.invocationsServed)
            })
        }
    }

    func drain(within: Duration) { host.drain(within: within) }

    func shutdown() async { await host.shutdown() }

    func run() async { await host.run() }

    func invoke(
        _ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool, requestID: InvocationID?,
        claimReport: Bool
    ) async -> InvocationResult {
        await host.invoke(name, payload: payload, clientContext: clientContext, includeLog: includeLog,
                          requestID: requestID, claimReport: claimReport)
    }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                completion: @escaping @Sendable (InvocationResult) -> Void) {
        host.invoke(name, payload: payload, clientContext: clientContext, completion: completion)
    }

    func forward(_ name: String, request: () -> ForwardedRequest,
                 completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        host.forward(name, request: request, completion: completion)
    }
}
