import Engine
import Foundation
import FunctionMode

// One attempt of a run: its container from create to removal.
extension LocalTaskRunner {
    /// Creates the attempt's container with the payload on its standard
    /// input, streams its output, samples its CPU and memory, waits for its
    /// end and removes it. A shutdown that begins meanwhile finds the
    /// container (or the attempt removes it itself).
    func runAttempt(_ name: String, _ id: TaskRunID, attempt: Int) async {
        let (spec, payload, output) = core.withLock {
            (($0.states[name] ?? $0.removing[name])?.spec, $0.payloads[id] ?? [], $0.outputs[id])
        }
        guard let spec else { return }
        guard admission.tryReserve(.taskContainers) else {
            event(name) { $0.startRefused(id, retryIn: .seconds(1), now: .now) }
            return
        }
        defer { admission.release(.taskContainers) }
        var containerID: String?
        do {
            let created = try await engine.createContainer(
                Self.containerSpec(spec, run: id, attempt: attempt, project: project, network: network))
            containerID = created.id
            // Known to shutdown from here on (it removes what it finds), or removed now.
            let known = core.withLock { core -> Bool in
                guard !core.stopped else { return false }
                core.attempts[id] = Attempt(container: created.id, startedAtEpochMilliseconds: nil, startedAt: .now,
                                            memoryBytes: spec.memoryBytes, cpus: spec.cpus)
                return true
            }
            guard known else {
                try? await engine.removeContainer(created.id, force: true)
                event(name) { $0.startFailed(id, reason: "the controller is stopping", now: .now) }
                return
            }
            // Attached before the start, so no output is missed.
            let attached = try await engine.attach(created.id)
            attached.write(payload)
            attached.closeStdin()
            try await engine.startContainer(created.id)
            let startedAt = ContinuousClock.now
            let stillWanted = core.withLock { core -> Bool in
                core.attempts[id]?.startedAtEpochMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
                core.attempts[id]?.startedAt = startedAt
                return !core.stopped
            }
            guard stillWanted else {
                // Shutdown began during the start: it may have missed the running container.
                try? await engine.removeContainer(created.id, force: true)
                event(name) { $0.startFailed(id, reason: "the controller is stopping", now: .now) }
                return
            }
            event(name) { $0.started(id, container: created.id, now: .now) }
            let sampler = Task { await self.sample(created.id, run: id) }
            do {
                for try await chunk in attached.output {
                    output?.append(chunk.bytes)
                    onOutput(name, id, chunk.bytes)
                }
            } catch {
                logger.debug("task output ended early", metadata: ["run": "\(id)", "error": "\(error)"])
            }
            let exit = try await engine.waitContainer(created.id)
            let ended = ContinuousClock.now
            sampler.cancel()
            await sampler.value
            let outOfMemory = exit.statusCode == 137
                ? ((try? await engine.inspectExited(created.id).state.oomKilled) ?? false) : false
            core.withLock { $0.attempts[id]?.duration = ended - startedAt }
            try? await engine.removeContainer(created.id, force: true)
            event(name) { $0.exited(id, exitCode: exit.statusCode, outOfMemory: outOfMemory, now: .now) }
        } catch {
            if let containerID { try? await engine.removeContainer(containerID, force: true) }
            logger.warning("task attempt could not run", metadata: ["run": "\(id)", "error": "\(error)"])
            event(name) { $0.startFailed(id, reason: "\(error)", now: .now) }
        }
    }

    /// Follows the engine's stats of the attempt's container: its CPU time and peak memory.
    func sample(_ container: String, run id: TaskRunID) async {
        guard let stream = try? await engine.containerStatsStream(container) else { return }
        do {
            for try await stats in stream {
                let cpu = stats.cpuStats?.cpuUsage?.totalUsage.map { Double($0) / 1e9 }
                let memory = stats.memoryStats?.maxUsage ?? stats.memoryStats?.usage
                core.withLock { core in
                    guard var attempt = core.attempts[id] else { return }
                    if let cpu, cpu > 0 { attempt.cpuSeconds = max(attempt.cpuSeconds ?? 0, cpu) }
                    if let memory, memory > 0 { attempt.maxMemoryBytes = max(attempt.maxMemoryBytes ?? 0, memory) }
                    core.attempts[id] = attempt
                }
            }
        } catch {}
    }

    /// The task's image, env and limits; stdin open for the payload; an init
    /// process as PID 1; no added capabilities and no privilege gain.
    static func containerSpec(_ task: TaskSpec, run: TaskRunID, attempt: Int, project: String, network: String) -> ContainerSpec {
        var spec = ContainerSpec(image: task.image, cmd: task.command, labels: [
            "tandem.workload": task.name,
            "tandem.mode": "task",
            "tandem.revision": task.revision,
            "tandem.project": project,
            "tandem.run": run.rawValue,
            "tandem.attempt": String(attempt),
        ])
        spec.entrypoint = task.entrypoint
        spec.env = task.environment.map { "\($0.name)=\($0.value)" } + ["TANDEM_RUN_ID=\(run.rawValue)"]
        spec.openStdin = true
        spec.stdinOnce = true
        spec.attachStdin = true
        spec.attachStdout = true
        spec.attachStderr = true
        spec.hostConfig = ReplicaContainer.supervised(memoryBytes: task.memoryBytes, cpus: task.cpus, tmpBytes: task.tmpBytes,
                                                      network: network)
        return spec
    }
}
