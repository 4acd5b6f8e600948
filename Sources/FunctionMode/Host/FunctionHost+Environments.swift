import Engine
import Foundation
import Logging
import NIOCore

// Environments: start, watch, freeze, thaw, destroy, remove.
extension FunctionHost {
    func start(_ function: String, _ env: EnvironmentID, _ type: InitializationType) async {
        guard let definition = definition(function) else {
            let actions = core.withLock { self.failedToStart(&$0, env, message: "function \(function) was removed") }
            return perform(actions)
        }
        let admitted = core.withLock { core -> Bool in
            guard !core.stopped else { return false }
            core.environments[env] = Environment(function: function)
            return true
        }
        guard admitted else {
            return perform(core.withLock { self.failedToStart(&$0, env, message: "tandem is shutting down") })
        }
        // Waits for the container's end; awaited by the watcher, cancelled on every other path.
        var exit: Task<ContainerWaitResponse, any Error>?
        do {
            var runtimeAPI = ""
            if definition.contract == .lambda {
                let endpoint = try await runtimeServer.openEndpoint(for: env, gate: PeerGate())
                core.withLock { $0.environments[env]?.endpoint = endpoint }
                runtimeAPI = endpoint.address
            }
            let spec = EnvironmentContainer.spec(
                definition, runtimeAPI: runtimeAPI, environment: env, initialization: type,
                settings: settings, date: Self.logStreamDate())
            let created = try await engine.createContainer(spec, name: "tandem-\(function)-\(env.rawValue)")
            let destroyEarly = core.withLock { core -> Bool in
                core.environments[env]?.containerID = created.id
                return core.stopped || (core.environments[env]?.destroyRequested ?? true)
            }
            // Watch for the container's end before starting it, so no exit is missed.
            let exited = Task { try await self.engine.waitContainer(created.id, condition: .nextExit) }
            exit = exited
            if destroyEarly {
                exited.cancel()
                await removeContainer(created.id, paused: false)
                return environmentGone(env, exitCode: 137, outOfMemory: false)
            }
            try await engine.startContainer(created.id)
            if let gate = core.withLock({ $0.environments[env]?.endpoint?.gate }) {
                // Only this container may talk to its Runtime API: its address
                // is known now (its runtime's connections wait until then).
                guard let address = try await engine.inspectContainer(created.id).ipAddress() else {
                    throw RuntimeAPIServerError(message: "the environment's container has no network address")
                }
                gate.admit(address)
            }
            // Shutdown waits for this start, so the queue is open unless it gave up waiting.
            guard work.submit({ await self.watch(env, containerID: created.id, exit: exited) }) else {
                exited.cancel()
                await removeContainer(created.id, paused: false)
                return environmentGone(env, exitCode: 137, outOfMemory: false)
            }
            // The streams end with the container: shutdown need not wait for them (run() does).
            work.submit(counted: false) {
                await self.whileAlive(env) { await self.followOutput(env, function: function, containerID: created.id) }
            }
            work.submit(counted: false) {
                await self.whileAlive(env) { await self.followMemory(env, containerID: created.id) }
            }
            if case .http(let port) = definition.contract {
                work.submit { await self.awaitServer(env, containerID: created.id, port: port) }
            }
        } catch {
            exit?.cancel()
            logger.warning("environment failed to start", metadata: ["function": "\(function)", "env": "\(env)", "error": "\(error)"])
            let (containerID, endpoint) = core.withLock { core in
                (core.environments[env]?.containerID, core.environments.removeValue(forKey: env)?.endpoint)
            }
            if let containerID { await removeContainer(containerID, paused: false) }
            await endpoint?.close()
            let actions = core.withLock { self.failedToStart(&$0, env, message: "\(error)") }
            perform(actions)
        }
    }

    func watch(_ env: EnvironmentID, containerID: String, exit: Task<ContainerWaitResponse, any Error>) async {
        var exitCode = 137
        if let result = try? await exit.value { exitCode = result.statusCode }
        // A container tandem killed did not die of memory; any other SIGKILL
        // may be the kernel's OOM killer, which the engine can report late.
        let killedByTandem = core.withLock { $0.environments[env]?.killed ?? false }
        let outOfMemory = killedByTandem ? false : (try? await engine.inspectExited(containerID).state.oomKilled) ?? false
        await removeContainer(containerID, paused: false)
        environmentGone(env, exitCode: exitCode, outOfMemory: outOfMemory)
    }

    /// Waits until an http function's server answers on its port, then
    /// offers the environment work (as a runtime's first `/next` would).
    func awaitServer(_ env: EnvironmentID, containerID: String, port: Int) async {
        guard let address = try? await engine.inspectContainer(containerID).ipAddress(),
              let probe = try? CurlHTTPClient(endpoint: .tcp(baseURL: "http://\(address):\(port)"), connectTimeout: .milliseconds(200))
        else { return }
        let deadline = ContinuousClock.now + settings.initTimeout
        while ContinuousClock.now < deadline {
            guard core.withLock({ $0.environments[env].map { !$0.destroyRequested } ?? false }) else { return }
            // Any HTTP answer means the server listens; a refused or reset
            // connection means not yet.
            if (try? await probe.execute(HTTPRequest(method: "GET", path: "/", timeout: .seconds(1)))) != nil {
                let server = ServerConnection(group: group, host: address, port: port)
                let actions = core.withLock { core -> [FleetAction] in
                    guard core.environments[env] != nil else { return [] }
                    core.environments[env]?.server = server
                    return core.fleet.runtimeRequestedNext(env, now: .now)
                }
                perform(actions)
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Tells the fleet an environment did not start, and gives back its slot.
    func failedToStart(_ core: inout Core, _ env: EnvironmentID, message: String) -> [FleetAction] {
        let actions = core.fleet.environmentFailedToStart(env, message: message)
        admission.setHeld(core.fleet.liveEnvironments, by: .functionEnvironments)
        return actions
    }

    /// Runs `follow` (a stream of the environment's container) until it ends,
    /// or until the environment is gone or the host shut down: an engine
    /// stream of a container that is gone does not always end by itself,
    /// and ``run()`` waits for every job.
    func whileAlive(_ env: EnvironmentID, _ follow: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await follow() }
            group.addTask {
                while !Task.isCancelled, !self.work.isClosed, self.core.withLock({ $0.environments[env] != nil }) {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// The environment's output, line by line, into its invocations' logs.
    func followOutput(_ env: EnvironmentID, function: String, containerID: String) async {
        do {
            for try await chunk in try await engine.containerLogs(containerID, options: LogsOptions(follow: true, tty: false)) {
                logBook.output(env, function: function, chunk.bytes)
            }
        } catch {
            logger.debug("output stream ended", metadata: ["env": "\(env)", "error": "\(error)"])
        }
    }

    /// The environment's peak memory, for REPORT's Max Memory Used.
    func followMemory(_ env: EnvironmentID, containerID: String) async {
        do {
            for try await sample in try await engine.containerStatsStream(containerID) {
                if let peak = sample.memoryStats?.maxUsage ?? sample.memoryStats?.usage, peak > 0 {
                    logBook.memory(env, maxUsageBytes: peak)
                }
            }
        } catch {
            logger.debug("stats stream ended", metadata: ["env": "\(env)", "error": "\(error)"])
        }
    }

    func environmentGone(_ env: EnvironmentID, exitCode: Int, outOfMemory: Bool) {
        if let function = core.withLock({ $0.environments[env]?.function }) {
            logBook.environmentGone(env, function: function)
        }
        let (actions, removed) = core.withLock { core in
            let removed = core.environments.removeValue(forKey: env)
            let actions = core.fleet.environmentExited(env, exitCode: exitCode, outOfMemory: outOfMemory, now: .now)
            admission.setHeld(core.fleet.liveEnvironments, by: .functionEnvironments)
            return (actions, removed)
        }
        removed?.server?.close()
        if let endpoint = removed?.endpoint { work.submit { await endpoint.close() } }
        perform(actions)
    }

    func freeze(_ env: EnvironmentID) async { await setPaused(env, true) }

    func thaw(_ env: EnvironmentID) async { await setPaused(env, false) }

    /// Pauses or unpauses an environment's container and tells the fleet how it went.
    private func setPaused(_ env: EnvironmentID, _ pause: Bool) async {
        var done = false
        if let containerID = containerID(of: env) {
            done = await retrying {
                if pause { try await self.engine.pauseContainer(containerID) } else { try await self.engine.unpauseContainer(containerID) }
            }
        }
        let actions = core.withLock { core -> [FleetAction] in
            let now = ContinuousClock.now
            if done { core.environments[env]?.paused = pause }
            switch (pause, done) {
            case (true, true): return core.fleet.frozen(env)
            case (true, false): return core.fleet.freezeFailed(env, now: now)
            case (false, true): return core.fleet.thawed(env, now: now)
            case (false, false): return core.fleet.thawFailed(env, now: now)
            }
        }
        perform(actions)
    }

    func destroy(_ env: EnvironmentID, _ reason: DestroyReason) async {
        let target = core.withLock { core -> (String, Bool)? in
            guard let record = core.environments[env] else { return nil }
            guard let containerID = record.containerID else {
                core.environments[env]?.destroyRequested = true
                return nil
            }
            core.environments[env]?.killed = true
            return (containerID, record.paused)
        }
        guard let (containerID, paused) = target else { return }
        logger.debug("destroying environment", metadata: ["env": "\(env)", "reason": "\(reason)"])
        // The watcher sees the exit, removes the container and reports it.
        if paused { _ = await retrying { try await self.engine.unpauseContainer(containerID) } }
        do {
            try await engine.killContainer(containerID)
        } catch {
            // Already stopped: the watcher reports it.
        }
    }

    func removeContainer(_ id: String, paused: Bool) async {
        if paused { _ = await retrying { try await self.engine.unpauseContainer(id) } }
        do {
            try await engine.removeContainer(id, force: true)
        } catch let error as EngineError where error.code == .notFound || error.code == .conflict {
            // Gone already, or being removed by the other path (watcher or shutdown).
        } catch {
            logger.warning("could not remove container", metadata: ["container": "\(id)", "error": "\(error)"])
        }
    }

    /// Docker 20.10 sometimes gets its own pause state wrong when pause and
    /// unpause follow each other closely: check and retry a few times.
    func retrying(_ operation: @Sendable () async throws -> Void) async -> Bool {
        for attempt in 0..<4 {
            do {
                try await operation()
                return true
            } catch let error as EngineError where error.code == .conflict || error.code == .server {
                if attempt < 3 { try? await Task.sleep(for: .milliseconds(2 << attempt)) }
            } catch {
                return false
            }
        }
        return false
    }
}
