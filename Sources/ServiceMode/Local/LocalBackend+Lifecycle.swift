import Engine
import Foundation
import FunctionMode

// Adoption at start, the timer loop, the drain and the shutdown.
extension LocalBackend {
    public func start(_ specs: [ServiceSpec]) async throws(ServiceBackendError) {
        let found: [ContainerSummary]
        do {
            found = try await engine.listContainers(all: true, labels: ["tandem.project=\(project)", "tandem.mode=service"])
        } catch {
            throw ServiceBackendError("cannot list the replicas an earlier run left: \(error)", underlying: error)
        }
        let wanted = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var byService: [String: [FoundReplica]] = [:]
        for container in found {
            let labels = container.labels ?? [:]
            guard let name = labels["tandem.workload"], wanted[name] != nil,
                  let slot = labels[ReplicaContainer.slotLabel].flatMap({ Int($0) }),
                  let serial = labels[ReplicaContainer.serialLabel].flatMap({ Int($0) }),
                  let revision = labels["tandem.revision"]
            else {
                // A workload no longer in the manifest: its replica goes.
                logger.info("removing a replica of a workload no longer deployed",
                            metadata: ["container": "\(container.id)", "workload": "\(labels["tandem.workload"] ?? "?")"])
                submit { await self.stopOrphan(container.id) }
                continue
            }
            let inspect = try? await engine.inspectContainer(container.id)
            byService[name, default: []].append(FoundReplica(
                container: container.id, slot: slot, serial: serial, revision: revision,
                running: inspect?.state.running ?? false, address: inspect?.ipAddress(network: network),
                port: labels[ReplicaContainer.portLabel].flatMap { Int($0) }))
        }
        for spec in specs {
            let now = ContinuousClock.now
            let (actions, adopted) = core.withLock { core -> ([ServiceAction], [(ReplicaID, String)]) in
                var state = core.states[spec.name] ?? ServiceState(name: spec.name, backoff: backoff)
                let actions = state.adopt(byService[spec.name] ?? [], spec: spec, now: now)
                core.states[spec.name] = state
                let adopted = state.view(now: now).replicas.compactMap { replica in
                    replica.container.map { (replica.id, $0) }
                }
                for (id, container) in adopted {
                    core.containers[id] = container
                    core.admitted.insert(id)
                }
                return (actions, adopted)
            }
            let since = Int(Date().timeIntervalSince1970)
            for (id, container) in adopted {
                admission.reserveRegardless(.serviceReplicas)
                watchExit(id, container: container, outputSince: since)
            }
            perform(spec.name, actions)
        }
    }

    /// A replica of a workload no longer in the manifest: stopped with the
    /// default grace, then removed.
    func stopOrphan(_ container: String) async {
        _ = try? await engine.stopContainer(container, timeout: 10)
        try? await engine.removeContainer(container, force: true)
    }

    /// Runs the probes and restarts and the engine work they start, until
    /// cancelled or until a drain is over; then shuts every replica down and
    /// returns once that and all the work it started are over.
    public func run() async {
        await SupervisedRun.run(
            work: work, timers: { await self.runTimers() }, shutdown: { await self.shutdown() },
            stopTimers: {
                self.core.withLock { $0.timersStopped = true }
                self.doorbell.ring()
            })
    }

    func runTimers() async {
        await SupervisedRun.timers(doorbell: doorbell, pass: { now in
            core.withLock { core in
                let drained = core.drainDeadline.map { $0 <= now || core.states.values.allSatisfy(\.isEmpty) } ?? false
                let wakeUps = core.states.mapValues(\.nextWakeUp)
                return SupervisedRun.Pass(
                    stop: core.timersStopped || drained, due: wakeUps.filter { $0.value.map { $0 <= now } ?? false }.map(\.key),
                    next: wakeUps.values.compactMap { $0 }.min(), draining: core.drainDeadline != nil)
            }
        }, tick: { name, now in event(name) { $0.tick(now: now) } })
    }

    /// Stops every replica gracefully; ``run()`` ends when they are gone or `within` has passed.
    public func drain(within: Duration) {
        let now = ContinuousClock.now
        let all = core.withLock { core -> [(String, [ServiceAction])] in
            let deadline = now + within
            core.drainDeadline = min(core.drainDeadline ?? deadline, deadline)
            return core.states.keys.sorted().map { name in
                var state = core.states[name]!
                let actions = state.remove(now: now)
                core.states[name] = state
                return (name, actions)
            }
        }
        for (name, actions) in all { perform(name, actions) }
    }

    /// Removes every replica's container at once; returns when they are gone
    /// and the engine work in flight is over.
    public func shutdown() async {
        let containers = core.withLock { core -> [String] in
            core.stopped = true
            core.timersStopped = true
            return Array(core.containers.values)
        }
        doorbell.ring()
        await withTaskGroup(of: Void.self) { group in
            for container in containers {
                group.addTask { await self.removeContainer(container) }
            }
        }
        work.close()
        for name in core.withLock({ Array($0.states.keys) }) { onChange(name, nil, []) }
    }
}
