import FunctionMode
import Gateway
import NIOCore

/// Sends each invocation to the runner of the workload's kind in the
/// ``Deployment`` (the function host for `lambda` and `http`, the command
/// runner for `command`).
struct FunctionRouter: FunctionInvoker {
    /// The runner of each invocable workload, by name.
    let targets: [String: any InvocationRunner]
    var events: EventQueue?

    /// The deployment's workloads whose kind has an invocation runner.
    init(deployment: Deployment, runners: [RunnerKind: any WorkloadRunner], events: EventQueue? = nil) {
        var targets: [String: any InvocationRunner] = [:]
        for workload in deployment.workloads {
            if let runner = runners[workload.kind] as? any InvocationRunner { targets[workload.name] = runner }
        }
        self.targets = targets
        self.events = events
    }

    func functionExists(_ name: String) -> Bool { targets[name] != nil }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult {
        await invoke(name, payload: payload, clientContext: clientContext, includeLog: includeLog, requestID: nil)
    }

    func invoke(
        _ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool, requestID: InvocationID?,
        claimReport: Bool = false
    ) async -> InvocationResult {
        guard let runner = targets[name] else { return .rejected(name, .unknownFunction, arrivedAt: .now) }
        return await runner.invoke(name, payload: payload, clientContext: clientContext, includeLog: includeLog,
                                   requestID: requestID, claimReport: claimReport)
    }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                completion: @escaping @Sendable (InvocationResult) -> Void) {
        guard let runner = targets[name] else { return completion(.rejected(name, .unknownFunction, arrivedAt: .now)) }
        runner.invoke(name, payload: payload, clientContext: clientContext, completion: completion)
    }

    func forward(_ name: String, request: () -> ForwardedRequest,
                 completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        targets[name]?.forward(name, request: request, completion: completion) ?? false
    }

    func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID {
        guard let events else { throw ControllerError(.unsupported, "asynchronous invocations are not accepted here") }
        return try await events.enqueue(name, payload: Array(payload.readableBytesView))
    }
}
