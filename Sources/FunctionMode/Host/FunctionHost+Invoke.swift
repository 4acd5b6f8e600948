import Foundation
import NIOCore

// The invoke paths: an invocation enters the fleet here.
extension FunctionHost {
    /// Invokes a function and waits for its outcome. Never throws: every way an
    /// invocation can end is an ``InvocationOutcome``.
    /// - Parameter includeLog: wait for the invocation's log (START … REPORT)
    ///   and return it in ``InvocationResult/log`` (for `X-Amz-Log-Type: Tail`).
    /// - Parameter requestID: the invocation's request id; a fresh UUID when nil
    ///   (an asynchronous event keeps its id across retries, as in Lambda).
    /// - Parameter claimReport: return the invocation's report in
    ///   ``InvocationResult/report`` instead of handing it to the observer (the
    ///   caller records it itself, e.g. with an event's completion).
    public func invoke(
        _ function: String, payload: ByteBuffer, clientContext: String? = nil, includeLog: Bool = false,
        requestID: InvocationID? = nil, claimReport: Bool = false
    ) async -> InvocationResult {
        await invoke(function, payload: payload, request: nil, clientContext: clientContext, includeLog: includeLog,
                     requestID: requestID, claimReport: claimReport)
    }

    /// Invokes a function and calls `completion` once with its outcome, from
    /// whichever thread settles it (often the Runtime API's event loop): the
    /// path with no task hops, for callers that live on an event loop. The
    /// result carries no log (``invoke(_:payload:clientContext:includeLog:requestID:)``
    /// waits for it when asked).
    public func invoke(
        _ function: String, payload: ByteBuffer, clientContext: String? = nil, requestID: InvocationID? = nil,
        completion: @escaping @Sendable (InvocationResult) -> Void
    ) {
        start(function, payload: payload, request: nil, clientContext: clientContext, requestID: requestID,
              completion: completion)
    }

    func invoke(
        _ function: String, payload: ByteBuffer, request: ForwardedRequest?, clientContext: String?, includeLog: Bool,
        requestID: InvocationID? = nil, claimReport: Bool = false
    ) async -> InvocationResult {
        // The claim comes first: the report must never reach the observer.
        let claimed = claimReport ? requestID ?? InvocationID(Identifiers.requestID()) : requestID
        if claimReport, let claimed { logBook.claimReport(claimed) }
        var result = await withCheckedContinuation { continuation in
            start(function, payload: payload, request: request, clientContext: clientContext, requestID: claimed) {
                continuation.resume(returning: $0)
            }
        }
        if includeLog, result.environment != nil {
            result.log = await logBook.log(of: result.requestID)
        }
        if claimReport, let claimed {
            // (An id already in flight was replaced by a fresh one, whose report went on as usual.)
            let report = await logBook.report(of: claimed)
            result.report = result.requestID == claimed ? report : nil
        }
        return result
    }

    func start(
        _ function: String, payload: ByteBuffer, request: ForwardedRequest?, clientContext: String?,
        requestID: InvocationID?, completion: @escaping @Sendable (InvocationResult) -> Void
    ) {
        let arrivedAt = ContinuousClock.Instant.now
        var id = requestID ?? InvocationID(Identifiers.requestID())
        let (contract, memory) = core.withLock { core in
            (core.definitions[function]?.contract, core.definitions[function]?.memoryMiB ?? 0)
        }
        var request = request
        var completion = completion
        // An http function invoked with an event gets the request the event
        // describes, and answers with the event's result.
        if request == nil, case .http = contract {
            request = HTTPEventBridge.request(fromEvent: Array(payload.readableBytesView))
            let answer = completion
            completion = { result in
                var result = result
                if let response = result.httpResponse {
                    result.outcome = .response(ByteBuffer(bytes: HTTPEventBridge.eventResult(from: response)))
                }
                answer(result)
            }
        }
        let actions = core.withLock { core -> [FleetAction] in
            // A caller's request id (an event's, kept across retries) can be in flight only once.
            if requestID != nil, core.calls[id] != nil { id = InvocationID(Identifiers.requestID()) }
            core.calls[id] = Call(function: function, payload: payload, request: request, clientContext: clientContext,
                                  arrivedAt: arrivedAt, memorySizeMiB: memory, completion: completion)
            // The decision and the count it leaves are made under the admission's
            // view of the other runners' slots (core, then admission: never the other way).
            core.fleet.slotsHeldElsewhere = admission.held(byOthersThan: .functionEnvironments)
            let actions = core.fleet.invoke(id, function: function, now: arrivedAt)
            // Only a start changes the count here (a warm invocation does not).
            if actions.contains(where: { if case .startEnvironment = $0 { true } else { false } }) {
                admission.setHeld(core.fleet.liveEnvironments, by: .functionEnvironments)
            }
            return actions
        }
        perform(actions)
    }

    /// Sends an HTTP request to an http-contract function (started on demand,
    /// frozen between requests, reaped when idle like any function). Its
    /// answer is in ``InvocationResult/httpResponse``.
    public func invoke(_ function: String, request: ForwardedRequest,
                       completion: @escaping @Sendable (InvocationResult) -> Void) {
        start(function, payload: ByteBuffer(bytes: request.body), request: request, clientContext: nil, requestID: nil,
              completion: completion)
    }

    /// Sends `request` to `function` if it is an http-contract function (the
    /// request is built only then) and returns true; false for any other.
    public func forward(_ function: String, request: () -> ForwardedRequest,
                        completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        guard case .http = definition(function)?.contract else { return false }
        invoke(function, request: request(), completion: completion)
        return true
    }

    /// Sends an HTTP request to an http-contract function and waits for its answer
    /// (see ``invoke(_:request:completion:)``).
    public func invoke(_ function: String, request: ForwardedRequest, includeLog: Bool = false) async -> InvocationResult {
        await invoke(function, payload: ByteBuffer(bytes: request.body), request: request, clientContext: nil,
                     includeLog: includeLog)
    }
}
