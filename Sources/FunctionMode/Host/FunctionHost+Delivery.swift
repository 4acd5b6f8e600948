import Foundation
import Logging
import NIOCore

// Handing invocations to environments and settling their outcomes.
extension FunctionHost {
    /// Sends an invocation's request to an http function and takes its answer
    /// (on an event loop, with no task in between).
    func forward(_ id: InvocationID, request: ForwardedRequest, to server: ServerConnection, env: EnvironmentID) {
        server.send(request) { answer in
            let outcome: InvocationOutcome
            var response: ForwardedResponse?
            switch answer {
            case .success(let received):
                response = received
                outcome = .response(ByteBuffer(bytes: received.body))
            case .failure(let error):
                // The server dropped the request: the function failed it. (A timeout
                // or a crash ends the invocation first, through the fleet.)
                outcome = .functionError(RuntimeErrorReport(
                    errorType: "Runtime.HTTPError", errorMessage: "the function's server did not answer: \(error)", body: []))
            }
            let now = ContinuousClock.Instant.now
            let (verdict, actions) = self.core.withLock { core -> (RuntimeCallVerdict, [FleetAction]) in
                let verdict = core.fleet.runtimeFinished(id, in: env, now: now)
                guard verdict == .accepted else { return (verdict, []) }
                core.calls[id]?.response = response
                // The server is ready for the next request at once.
                return (verdict, core.fleet.runtimeRequestedNext(env, now: now))
            }
            if verdict == .accepted { self.finish(id, outcome, finishedAt: now) }
            self.perform(actions)
            self.wake() // the freeze grace starts now
        }
    }

    func deliver(_ id: InvocationID, to env: EnvironmentID, cold: Bool, initDuration: Duration?) {
        let now = ContinuousClock.Instant.now
        if let (server, request, definition) = core.withLock({ core -> (ServerConnection, ForwardedRequest, FunctionDefinition)? in
            guard var call = core.calls[id], let server = core.environments[env]?.server,
                  let request = call.request, let definition = core.definitions[call.function]
            else { return nil }
            call.deliveredAt = now
            call.environment = env
            call.initDuration = cold ? initDuration : nil
            core.calls[id] = call
            return (server, request, definition)
        }) {
            logBook.delivered(id, env: env, function: definition.name, memorySizeMiB: definition.memoryMiB,
                              initDuration: cold ? initDuration : nil)
            forward(id, request: request, to: server, env: env)
            return
        }
        let prepared = core.withLock { core -> (NextWaiter, NextEvent, FunctionDefinition)? in
            guard var call = core.calls[id], let definition = core.definitions[call.function],
                  let waiter = core.environments[env]?.takeWaiter()
            else { return nil }
            call.deliveredAt = now
            call.environment = env
            call.initDuration = cold ? initDuration : nil
            core.calls[id] = call
            let epoch = Date().timeIntervalSince1970
            let deadline = Int64((epoch * 1000).rounded()) + definition.timeout.milliseconds
            let event = NextEvent(
                requestID: id.rawValue, deadlineEpochMilliseconds: deadline,
                functionArn: definition.arn(region: settings.region, account: settings.account),
                traceID: Identifiers.traceHeader(epochSeconds: UInt64(epoch)), clientContext: call.clientContext, payload: call.payload)
            return (waiter, event, definition)
        }
        guard let (waiter, event, definition) = prepared else {
            // Its `/next` connection closed just before: the runtime is gone.
            return deliveryFailed(id, env: env)
        }
        // The log opens before the event is handed over: a runtime can answer
        // before this thread runs again, and the answer must find its log.
        logBook.delivered(id, env: env, function: definition.name, memorySizeMiB: definition.memoryMiB,
                          initDuration: cold ? initDuration : nil)
        let delivered = waiter.deliver(event) { [weak self] in
            // The connection closed while the event was being written.
            self?.deliveryFailed(id, env: env)
        }
        if !delivered { deliveryFailed(id, env: env) }
    }

    /// An invocation could not be handed to its environment's runtime.
    func deliveryFailed(_ id: InvocationID, env: EnvironmentID) {
        logger.warning("the runtime's connection closed before it took the invocation; replacing the environment",
                       metadata: ["env": "\(env)", "request": "\(id)"])
        perform(core.withLock { $0.fleet.deliveryFailed(id, in: env, now: .now) })
    }

    func finish(_ id: InvocationID, _ outcome: InvocationOutcome, finishedAt: ContinuousClock.Instant) {
        guard let call = core.withLock({ $0.calls.removeValue(forKey: id) }) else { return }
        if let deliveredAt = call.deliveredAt {
            let (kind, errorType, note) = Self.logSummary(outcome, requestID: id)
            logBook.answered(id, duration: finishedAt - deliveredAt, outcome: kind, errorType: errorType, note: note)
        }
        var result = InvocationResult(
            requestID: id, function: call.function, outcome: outcome, environment: call.environment,
            duration: call.deliveredAt.map { finishedAt - $0 }, initDuration: call.initDuration,
            totalDuration: finishedAt - call.arrivedAt, memorySizeMiB: call.memorySizeMiB)
        result.httpResponse = call.response
        call.completion(result)
    }

    func settle(_ env: EnvironmentID, requestID: String, outcome: InvocationOutcome) -> RuntimeCallVerdict {
        let now = ContinuousClock.Instant.now
        let verdict = core.withLock { $0.fleet.runtimeFinished(InvocationID(requestID), in: env, now: now) }
        if verdict == .accepted {
            finish(InvocationID(requestID), outcome, finishedAt: now)
            wake()
        }
        return verdict
    }

    /// How an outcome reads in the log and the ledger: its kind, error type,
    /// and the line Lambda writes for it before END.
    static func logSummary(_ outcome: InvocationOutcome, requestID: InvocationID)
        -> (InvocationReport.Outcome, String?, String?)
    {
        switch outcome {
        case .response:
            return (.success, nil, nil)
        case .functionError(let report):
            return (.error, report.errorType, nil)
        case .responseTooLarge:
            return (.error, "Function.ResponseSizeTooLarge", nil)
        case .rejected:
            return (.unavailable, nil, nil)
        case .failed(let failure):
            let (type, message) = InvocationResult.describe(failure, requestID: requestID)
            switch failure {
            case .timedOut: return (.timeout, type, "\(ISO8601DateFormatter().string(from: Date())) \(message)")
            case .runtimeExited(_, let oom): return (oom ? .oom : .crash, type, message)
            case .runtimeVanished: return (.crash, type, message)
            case .initFailed: return (.initError, type, message)
            case .environmentUnavailable, .shuttingDown: return (.unavailable, type, message)
            }
        }
    }
}
