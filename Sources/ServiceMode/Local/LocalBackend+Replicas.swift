import Engine
import FunctionMode

// Starting, watching, probing and stopping one replica.
extension LocalBackend {
    func spec(of name: String) -> ServiceSpec? {
        core.withLock { $0.states[name]?.spec }
    }

    /// Creates and starts the replica's container, then watches it. A
    /// shutdown that begins meanwhile finds the container (or the start
    /// removes it itself): no replica outlives a shutdown.
    func startReplica(_ id: ReplicaID) async {
        guard let service = spec(of: id.service) else {
            event(id.service) { $0.startFailed(id, exit: ReplicaExit(exitCode: nil, reason: "removed"), now: .now) }
            return
        }
        guard admission.tryReserve(.serviceReplicas) else {
            logger.warning("replica waits: the machine-wide limit is reached", metadata: ["replica": "\(id)"])
            event(id.service) { $0.startRefused(id, retryIn: .seconds(1), now: .now) }
            return
        }
        core.withLock { _ = $0.admitted.insert(id) }
        let spec = ReplicaContainer.spec(service, replica: id, project: project, network: network)
        var containerID: String?
        do {
            if service.volumePath != nil {
                // Labelled, so `tandem down --volumes` finds it; it outlives the slot's replicas.
                try await engine.createVolume(ReplicaContainer.volumeName(id, project: project),
                                              labels: ["tandem.project": project, "tandem.workload": id.service,
                                                       ReplicaContainer.slotLabel: String(id.slot)])
            }
            let created = try await engine.createContainer(spec, name: ReplicaContainer.name(id, project: project))
            containerID = created.id
            guard remember(id, container: created.id) else {
                await removeContainer(created.id)
                release(id)
                return
            }
            try await engine.startContainer(created.id)
            let address = try await engine.inspectContainer(created.id).ipAddress(network: network)
            guard !isStopped else {
                await removeContainer(created.id)
                return
            }
            watchExit(id, container: created.id)
            event(id.service) { $0.started(id, container: created.id, address: address, now: .now) }
        } catch {
            logger.warning("replica could not start", metadata: ["replica": "\(id)", "error": "\(error)"])
            if let containerID { await removeContainer(containerID) }
            release(id)
            event(id.service) {
                $0.startFailed(id, exit: ReplicaExit(exitCode: nil, reason: "could not start: \(error)"), now: .now)
            }
        }
    }

    /// Records a replica's container; false once shutdown began (the caller removes it).
    func remember(_ id: ReplicaID, container: String) -> Bool {
        core.withLock { core in
            guard !core.stopped else { return false }
            core.containers[id] = container
            return true
        }
    }

    var isStopped: Bool { core.withLock { $0.stopped } }

    /// Waits for the container to end; an end nobody asked for is reported
    /// with the exit code and the last lines it printed. Its output goes to
    /// `onOutput` meanwhile (from now on, for an adopted replica).
    func watchExit(_ id: ReplicaID, container: String, outputSince: Int? = nil) {
        work.submit(counted: false) {
            var options = LogsOptions(follow: true, tty: false)
            options.since = outputSince
            guard let stream = try? await self.engine.containerLogs(container, options: options) else { return }
            do {
                for try await chunk in stream { self.onOutput(id, chunk.bytes) }
            } catch {}
        }
        work.submit(counted: false) {
            guard let statusCode = await self.waitForEnd(of: container) else { return }
            // Out of the ready set first (the state's exit publishes it), then its connections go.
            let lines = await self.lastLines(of: container)
            let reason = statusCode == 137 ? "killed (exit code 137)" : "exited with code \(statusCode)"
            self.event(id.service) {
                $0.exited(id, exit: ReplicaExit(exitCode: statusCode, reason: reason, lastLines: lines), now: .now)
            }
            self.onContainerEnded(container)
        }
    }

    /// Waits for the container's end; a wait that breaks (the engine
    /// restarted, the connection dropped) is taken up again while the
    /// container runs, so no replica's end goes unnoticed. Nil once shutdown began.
    func waitForEnd(of container: String) async -> Int? {
        while !isStopped {
            if let result = try? await engine.waitContainer(container) { return result.statusCode }
            try? await Task.sleep(for: .seconds(1))
            guard !isStopped else { return nil }
            do {
                let inspect = try await engine.inspectContainer(container)
                if !inspect.state.running { return inspect.state.exitCode }
            } catch let error as EngineError where error.code == .notFound {
                return 137  // removed behind tandem's back
            } catch {
                continue
            }
        }
        return nil
    }

    /// The last lines a container printed (stdout and stderr), for `tandem ps`.
    func lastLines(of container: String, count: Int = 5) async -> [String] {
        guard let stream = try? await engine.containerLogs(container, options: LogsOptions(tail: count)) else { return [] }
        var bytes: [UInt8] = []
        do {
            for try await chunk in stream { bytes += chunk.bytes }
        } catch {}
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").suffix(count).map(String.init)
    }

    func probe(_ id: ReplicaID, container: String, address: String?, port: Int) async {
        guard let service = spec(of: id.service) else { return }
        let outcome = await HealthProbe(engine: engine).run(
            service.health.probe, container: container, address: address, port: port,
            timeout: service.health.timeout)
        event(id.service) { $0.probed(id, healthy: outcome.healthy, message: outcome.message, now: .now) }
    }

    /// Out of rotation already: lets the replica's requests finish, then
    /// SIGTERM, SIGKILL after what is left of `grace` (and of a drain), and removes it.
    func stopReplica(_ id: ReplicaID, container: String, grace: Duration) async {
        let started = ContinuousClock.now
        var grace = grace
        if let deadline = core.withLock({ $0.drainDeadline }) { grace = max(.zero, min(grace, deadline - started)) }
        await traffic.waitUntilIdle(replica: container, timeout: grace)
        let left = grace - (ContinuousClock.now - started)
        let seconds = max(0, Int((Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18).rounded(.up)))
        _ = try? await engine.stopContainer(container, timeout: seconds)
        await removeContainer(container)
        event(id.service) { $0.stopped(id, now: .now) }
    }

    /// Removes a container and gives back its replica's slot of the limit.
    func removeContainer(_ container: String) async {
        do {
            try await engine.removeContainer(container, force: true)
        } catch let error as EngineError where error.code == .notFound || error.code == .conflict {
            // Gone already, or its removal is under way (a stop and a shutdown crossing).
        } catch {
            logger.warning("replica container could not be removed", metadata: ["container": "\(container)", "error": "\(error)"])
        }
        let id = core.withLock { core -> ReplicaID? in
            guard let id = core.containers.first(where: { $0.value == container })?.key else { return nil }
            core.containers[id] = nil
            return id
        }
        if let id { release(id) }
    }

    /// Gives back the replica's slot of the machine-wide limit, once.
    func release(_ id: ReplicaID) {
        if core.withLock({ $0.admitted.remove(id) }) != nil { admission.release(.serviceReplicas) }
    }
}
