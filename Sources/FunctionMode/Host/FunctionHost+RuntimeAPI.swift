import NIOCore

// What the Runtime API server reports of each environment's runtime.
extension FunctionHost: RuntimeAPIDelegate {
    public func runtimeRequestedNext(_ env: EnvironmentID, waiter: NextWaiter) {
        let actions = core.withLock { core -> [FleetAction] in
            guard core.environments[env] != nil else { return [] }
            core.environments[env]?.waiters.removeAll { !$0.isWaiting }
            core.environments[env]?.waiters.append(waiter)
            return core.fleet.runtimeRequestedNext(env, now: .now)
        }
        // An idle environment's freeze grace starts now: the timer loop must know.
        if actions.isEmpty { wake() } else { perform(actions) }
    }

    public func runtimeAbandonedNext(_ env: EnvironmentID, waiter: NextWaiter) {
        core.withLock { core in
            guard var record = core.environments[env] else { return }
            record.waiters.removeAll { $0 === waiter || !$0.isWaiting }
            core.environments[env] = record
            // Only when no `/next` of the environment is left does it stop waiting.
            if record.waiters.isEmpty { core.fleet.runtimeAbandonedNext(env) }
        }
    }

    public func runtimeResponded(_ env: EnvironmentID, requestID: String, body: ByteBuffer) -> RuntimeCallVerdict {
        settle(env, requestID: requestID, outcome: .response(body))
    }

    public func runtimeReportedError(_ env: EnvironmentID, requestID: String, error: RuntimeErrorReport) -> RuntimeCallVerdict {
        settle(env, requestID: requestID, outcome: .functionError(error))
    }

    public func runtimeSentTooMuch(_ env: EnvironmentID, requestID: String, bytes: Int) {
        _ = settle(env, requestID: requestID, outcome: .responseTooLarge(bytes: bytes))
    }

    public func runtimeReportedInitError(_ env: EnvironmentID, error: RuntimeErrorReport) -> RuntimeCallVerdict {
        let actions = core.withLock { core -> [FleetAction]? in
            guard core.environments[env] != nil else { return nil }
            return core.fleet.runtimeInitFailed(env, errorType: error.errorType, message: error.errorMessage)
        }
        guard let actions else { return .forbidden }
        perform(actions)
        return .accepted
    }
}
