import FunctionMode
import NIOCore

/// What the gateway needs from function mode. The controller gives it a
/// ``FunctionHost`` plus its durable queue; tests give it fakes.
public protocol FunctionInvoker: Sendable {
    /// True when a function of this name is deployed.
    func functionExists(_ name: String) -> Bool
    /// Invokes synchronously; never throws (every ending is an outcome).
    /// - Parameter includeLog: the caller wants ``InvocationResult/log``
    ///   (`X-Amz-Log-Type: Tail`); without it the invoker need not wait for the log.
    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult
    /// Invokes synchronously without the log and calls `completion` once, from
    /// any thread. The gateway's event loops use this to answer without a task
    /// hop; the default runs ``invoke(_:payload:clientContext:includeLog:)`` in a task.
    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                completion: @escaping @Sendable (InvocationResult) -> Void)
    /// For a function that is an HTTP server itself (the `http` contract): sends
    /// it an http route's request as is and calls `completion` once, from any
    /// thread, with the outcome (the answer in ``InvocationResult/httpResponse``).
    /// Returns false, and never calls `completion` (nor `request`, so the
    /// request is built only for an HTTP server), when the function is not an
    /// HTTP server: it then gets the request as an API Gateway event.
    func forward(_ name: String, request: () -> ForwardedRequest,
                 completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool
    /// Queues an asynchronous (Event) invocation; throws if it cannot be accepted durably.
    func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID
}

/// A ``FunctionHost`` for synchronous calls, with asynchronous ones handed to
/// a queue the caller provides (the host itself keeps no queue).
extension FunctionInvoker {
    /// Invokes without asking for the log.
    public func invoke(_ name: String, payload: ByteBuffer, clientContext: String? = nil) async -> InvocationResult {
        await invoke(name, payload: payload, clientContext: clientContext, includeLog: false)
    }

    public func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                       completion: @escaping @Sendable (InvocationResult) -> Void) {
        Task { completion(await invoke(name, payload: payload, clientContext: clientContext, includeLog: false)) }
    }

    /// No function is an HTTP server unless the invoker says so.
    public func forward(_ name: String, request: () -> ForwardedRequest,
                        completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool { false }
}

public struct FunctionHostInvoker: FunctionInvoker {
    public let host: FunctionHost
    private let enqueueEvent: @Sendable (String, ByteBuffer) async throws -> InvocationID

    public init(host: FunctionHost, enqueue: @escaping @Sendable (String, ByteBuffer) async throws -> InvocationID) {
        self.host = host
        self.enqueueEvent = enqueue
    }

    public func functionExists(_ name: String) -> Bool { host.definition(name) != nil }

    public func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult {
        await host.invoke(name, payload: payload, clientContext: clientContext, includeLog: includeLog)
    }

    public func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                       completion: @escaping @Sendable (InvocationResult) -> Void) {
        host.invoke(name, payload: payload, clientContext: clientContext, completion: completion)
    }

    public func forward(_ name: String, request: () -> ForwardedRequest,
                        completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        host.forward(name, request: request, completion: completion)
    }

    public func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID {
        try await enqueueEvent(name, payload)
    }
}
