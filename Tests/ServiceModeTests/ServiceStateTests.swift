import Testing
@testable import ServiceMode

private let t0 = ContinuousClock.Instant.now
private func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

private func spec(replicas: Int = 1, revision: String = "r1", health: HealthPolicy = HealthPolicy()) -> ServiceSpec {
    ServiceSpec(name: "web", revision: revision, image: "web:1", replicas: replicas, port: 8080, health: health)
}

private func starts(_ actions: [ServiceAction]) -> [ReplicaID] {
    actions.compactMap { if case .start(let id) = $0 { id } else { nil } }
}

private func probes(_ actions: [ServiceAction]) -> [ReplicaID] {
    actions.compactMap { if case .probe(let id, _, _, _) = $0 { id } else { nil } }
}

private func stops(_ actions: [ServiceAction]) -> [ReplicaID] {
    actions.compactMap { if case .stop(let id, _, _) = $0 { id } else { nil } }
}

private func container(_ id: ReplicaID) -> String { "c-\(id.slot)-\(id.serial)" }

/// Starts the replica and answers its first probe: it is ready.
@discardableResult
private func bringUp(_ state: inout ServiceState, _ id: ReplicaID, at time: Double) -> [ServiceAction] {
    let started = state.started(id, container: container(id), address: "172.17.0.\(id.serial + 2)", now: at(time))
    #expect(probes(started) == [id])
    return state.probed(id, healthy: true, message: "ok", now: at(time + 0.1))
}

/// A service of `replicas` ready replicas, each started at time 0.
private func running(replicas: Int = 1, health: HealthPolicy = HealthPolicy()) -> (ServiceState, [ReplicaID]) {
    var state = ServiceState(name: "web")
    let ids = starts(state.apply(spec(replicas: replicas, health: health), now: at(0)))
    for id in ids { bringUp(&state, id, at: 0) }
    return (state, ids)
}

@Suite("Service supervision (pure)")
struct ServiceStateTests {
    @Test("each slot gets a replica; a replica takes traffic after its first good probe")
    func startsAndReadies() throws {
        var state = ServiceState(name: "web")
        let ids = starts(state.apply(spec(replicas: 2), now: at(0)))
        #expect(ids.map(\.slot) == [0, 1])
        #expect(state.readyReplicas.isEmpty)
        let started = state.started(ids[0], container: "c0", address: "172.17.0.2", now: at(0.5))
        #expect(started == [.probe(ids[0], container: "c0", address: "172.17.0.2", port: 8080)])
        // A failed probe before the deadline: probed again 100 ms later, still out of rotation.
        #expect(state.probed(ids[0], healthy: false, message: "refused", now: at(0.6)).isEmpty)
        #expect(state.nextWakeUp == at(0.7))
        #expect(probes(state.tick(now: at(0.7))) == [ids[0]])
        let ready = state.probed(ids[0], healthy: true, message: "ok", now: at(0.8))
        #expect(ready.contains(.publish))
        #expect(ready.contains(.note(.ready(ids[0], adopted: false, after: .milliseconds(800)))), "from the start's request")
        #expect(state.readyReplicas.map(\.id) == [ids[0]])
        #expect(state.readyReplicas.first?.address == "172.17.0.2")
        // Without a health check interval a ready replica is not probed again.
        #expect(probes(state.tick(now: at(100))).isEmpty)
    }

    @Test("CrashLoopBackOff: the first end is replaced at once, then 10 s, 20 s, 40 s … capped at 5 min")
    func backoffTable() {
        let backoff = CrashBackoff()
        let delays = (1...9).map { backoff.delay(afterEnd: $0) }
        #expect(delays == [.zero, .seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160),
                           .seconds(300), .seconds(300), .seconds(300)])
    }

    @Test("a replica that keeps exiting waits out the back-off, and ps shows the crash loop with the exit")
    func crashLoop() throws {
        var (state, ids) = running()
        var id = ids[0]
        // First end: replaced at once.
        var actions = state.exited(id, exit: ReplicaExit(exitCode: 1, reason: "exited with code 1", lastLines: ["boom"]),
                                   now: at(1))
        #expect(actions.contains(.remove(container: container(id))))
        #expect(actions.contains(.publish))
        id = try #require(starts(actions).first)
        #expect(id.slot == 0 && id.serial == 1)
        bringUp(&state, id, at: 1)
        // Second end in a row: 10 s.
        actions = state.exited(id, exit: ReplicaExit(exitCode: 1, reason: "exited with code 1"), now: at(2))
        #expect(starts(actions).isEmpty)
        #expect(state.nextWakeUp == at(12))
        #expect(state.view(now: at(3)).crashLoopRetryIn == .seconds(9))
        #expect(state.view(now: at(3)).restarts == 2)
        #expect(state.view(now: at(3)).lastExit?.exitCode == 1)
        #expect(starts(state.tick(now: at(11.9))).isEmpty)
        id = try #require(starts(state.tick(now: at(12))).first)
        #expect(state.view(now: at(12)).crashLoopRetryIn == nil)
        // Third: 20 s.
        _ = state.started(id, container: container(id), address: "a", now: at(12))
        actions = state.exited(id, exit: ReplicaExit(exitCode: 2, reason: "exited with code 2"), now: at(13))
        #expect(state.nextWakeUp == at(33))
        #expect(actions.contains(.note(.ended(id, ReplicaExit(exitCode: 2, reason: "exited with code 2"),
                                              restarts: 3, retryIn: .seconds(20)))))
    }

    @Test("ten minutes of healthy running resets the back-off")
    func backoffResets() throws {
        var (state, ids) = running()
        var id = ids[0]
        for time in [1.0, 2.0] {
            let actions = state.exited(id, exit: ReplicaExit(exitCode: 1, reason: "x"), now: at(time))
            id = try #require(starts(actions).first ?? starts(state.tick(now: at(time + 10))).first)
            bringUp(&state, id, at: time + 10)
        }
        // Third end, after 10 min of healthy running: replaced at once again.
        let actions = state.exited(id, exit: ReplicaExit(exitCode: 1, reason: "x"), now: at(12.1 + 600))
        #expect(starts(actions).count == 1)
    }

    @Test("a ready replica failing `retries` probes in a row leaves the rotation, is stopped and replaced")
    func unhealthyReplaced() throws {
        let health = HealthPolicy(probe: .http(path: "/healthz"), interval: .seconds(5), retries: 3)
        var (state, ids) = running(health: health)
        let id = ids[0]
        #expect(state.nextWakeUp == at(5.1))
        for (n, time) in [5.1, 10.1].enumerated() {
            #expect(probes(state.tick(now: at(time))) == [id])
            #expect(state.probed(id, healthy: false, message: "GET /healthz answered 500", now: at(time)).isEmpty,
                    "failure \(n + 1) of 3 changes nothing")
        }
        #expect(probes(state.tick(now: at(15.1))) == [id])
        let actions = state.probed(id, healthy: false, message: "GET /healthz answered 500", now: at(15.1))
        #expect(actions.contains(.publish))
        #expect(stops(actions) == [id])
        #expect(actions.contains(.stop(id, container: container(id), grace: .seconds(1))), "a failed replica is not waited for")
        let replacement = try #require(starts(actions).first)
        #expect(replacement.slot == 0 && replacement != id)
        #expect(state.readyReplicas.isEmpty)
        #expect(state.view(now: at(16)).lastExit?.reason.contains("health check failed 3 times") == true)
        // Its container's exit while stopping is expected: no second replacement.
        #expect(state.exited(id, exit: ReplicaExit(exitCode: 143, reason: "x"), now: at(16)).isEmpty)
        #expect(state.stopped(id, now: at(17)).isEmpty)
    }

    @Test("a replica not ready within the deadline (start period + retries × interval + timeout, at least 30 s) is replaced")
    func neverReady() throws {
        #expect(HealthPolicy().readinessDeadline == .seconds(35))
        #expect(HealthPolicy(interval: .seconds(1), timeout: .seconds(1)).readinessDeadline == .seconds(30))
        #expect(HealthPolicy(interval: .seconds(30), startPeriod: .seconds(60)).readinessDeadline == .seconds(155))
        var state = ServiceState(name: "web")
        let id = try #require(starts(state.apply(spec(), now: at(0))).first)
        _ = state.started(id, container: "c", address: "a", now: at(0))
        #expect(stops(state.probed(id, healthy: false, message: "refused", now: at(34.9))).isEmpty)
        let actions = state.probed(id, healthy: false, message: "refused", now: at(35))
        #expect(stops(actions) == [id])
        #expect(starts(actions).count == 1)
    }

    @Test("a new revision: each slot's new replica starts beside the old one, which serves until the new one is ready")
    func revisionChange() throws {
        var (state, old) = running(replicas: 2)
        let actions = state.apply(spec(replicas: 2, revision: "r2"), now: at(10))
        let new = starts(actions)
        #expect(new.map(\.slot) == [0, 1])
        #expect(stops(actions).isEmpty)
        #expect(state.readyReplicas.map(\.id) == old)
        let ready = bringUp(&state, new[0], at: 11)
        #expect(stops(ready) == [old[0]])
        #expect(ready.contains(.stop(old[0], container: container(old[0]), grace: .seconds(10))))
        #expect(Set(state.readyReplicas.map(\.id)) == [new[0], old[1]])
        #expect(state.view(now: at(12)).ready == 1)
    }

    @Test("fewer replicas: the highest slots stop; removal stops every replica")
    func scaleDownAndRemove() throws {
        var (state, ids) = running(replicas: 3)
        #expect(stops(state.apply(spec(replicas: 1), now: at(5))) == [ids[1], ids[2]])
        #expect(state.readyReplicas.map(\.id) == [ids[0]])
        _ = state.stopped(ids[1], now: at(6))
        _ = state.stopped(ids[2], now: at(6))
        #expect(stops(state.remove(now: at(7))) == [ids[0]])
        #expect(!state.isEmpty)
        #expect(state.stopped(ids[0], now: at(8)).isEmpty)
        #expect(state.isEmpty)
    }

    @Test("a replica stopped while its container is being created is stopped as soon as it exists")
    func stopWhileStarting() throws {
        var state = ServiceState(name: "web")
        let id = try #require(starts(state.apply(spec(), now: at(0))).first)
        #expect(state.remove(now: at(0.1)).isEmpty)
        #expect(state.started(id, container: "c", address: "a", now: at(0.5)) == [.stop(id, container: "c", grace: .zero)])
        // A start that failed while being removed counts as no end.
        var other = ServiceState(name: "web")
        let id2 = try #require(starts(other.apply(spec(), now: at(0))).first)
        _ = other.remove(now: at(0.1))
        #expect(other.startFailed(id2, exit: ReplicaExit(exitCode: nil, reason: "x"), now: at(0.2)).isEmpty)
        #expect(other.isEmpty)
    }

    @Test("no room under the machine-wide limit: the slot tries again in a second, not counted as an end")
    func refusedStart() throws {
        var state = ServiceState(name: "web")
        let id = try #require(starts(state.apply(spec(), now: at(0))).first)
        #expect(starts(state.startRefused(id, retryIn: .seconds(1), now: at(0))).isEmpty)
        #expect(state.nextWakeUp == at(1))
        #expect(starts(state.tick(now: at(1))).count == 1)
        #expect(state.view(now: at(1)).restarts == 0)
    }

    @Test("a failed start counts as an end with its reason")
    func failedStart() throws {
        var state = ServiceState(name: "web")
        let id = try #require(starts(state.apply(spec(), now: at(0))).first)
        let actions = state.startFailed(id, exit: ReplicaExit(exitCode: nil, reason: "could not start: no such image"), now: at(1))
        #expect(starts(actions).count == 1, "the first end is retried at once")
        #expect(state.view(now: at(1)).lastExit?.reason == "could not start: no such image")
    }

    @Test("adoption: running replicas of desired slots are kept and probed, the rest removed, missing slots started")
    func adoption() throws {
        var state = ServiceState(name: "web")
        let found = [
            FoundReplica(container: "keep", slot: 0, serial: 4, revision: "r1", running: true, address: "172.17.0.5"),
            FoundReplica(container: "dup", slot: 0, serial: 2, revision: "r1", running: true, address: "172.17.0.6"),
            FoundReplica(container: "dead", slot: 1, serial: 1, revision: "r1", running: false, address: nil),
            FoundReplica(container: "extra", slot: 5, serial: 0, revision: "r1", running: true, address: "172.17.0.7"),
        ]
        let actions = state.adopt(found, spec: spec(replicas: 2), now: at(0))
        #expect(Set(actions.compactMap { if case .remove(let c) = $0 { c } else { nil } }) == ["dup", "dead", "extra"])
        let started = starts(actions)
        #expect(started.map(\.slot) == [1])
        #expect(started.first?.serial == 2, "a slot's serials continue after the highest found in it")
        let kept = ReplicaID(service: "web", slot: 0, serial: 4)
        #expect(probes(actions) == [kept])
        let ready = state.probed(kept, healthy: true, message: "ok", now: at(0.1))
        #expect(ready.contains(.note(.ready(kept, adopted: true, after: .milliseconds(100)))))
        #expect(state.readyReplicas.map(\.container) == ["keep"])
    }

    @Test("adoption of an older revision: it serves until its slot's new replica is ready")
    func adoptionOfOldRevision() throws {
        var state = ServiceState(name: "web")
        let found = [FoundReplica(container: "old", slot: 0, serial: 0, revision: "r0", running: true, address: "a", port: 9000)]
        let actions = state.adopt(found, spec: spec(), now: at(0))
        let old = ReplicaID(service: "web", slot: 0, serial: 0)
        let new = try #require(starts(actions).first)
        _ = state.probed(old, healthy: true, message: "ok", now: at(0.1))
        #expect(state.readyReplicas.map(\.container) == ["old"])
        #expect(state.readyReplicas.map(\.port) == [9000], "an older revision serves on its own port")
        #expect(stops(bringUp(&state, new, at: 1)) == [old])
    }

    @Test("a stateful service's slot holds one replica at a time: the old revision stops first, a failed one is gone before its replacement starts")
    func statefulSlotsAreExclusive() throws {
        var state = ServiceState(name: "db")
        var stateful = spec(health: HealthPolicy(probe: .port, interval: .seconds(1), retries: 1))
        stateful.volumePath = "/data"
        let first = try #require(starts(state.apply(stateful, now: at(0))).first)
        bringUp(&state, first, at: 0)
        // A new revision: the old replica is stopped, nothing starts beside it.
        stateful.revision = "r2"
        var actions = state.apply(stateful, now: at(10))
        #expect(stops(actions) == [first])
        #expect(starts(actions).isEmpty)
        // Once it is gone the slot starts the new revision.
        actions = state.stopped(first, now: at(11))
        let second = try #require(starts(actions).first)
        bringUp(&state, second, at: 11)
        #expect(state.readyReplicas.map(\.revision) == ["r2"])
        // An unhealthy replica: stopped, and its replacement waits until it is gone.
        #expect(probes(state.tick(now: at(13))) == [second])
        actions = state.probed(second, healthy: false, message: "refused", now: at(13))
        #expect(stops(actions) == [second])
        #expect(starts(actions).isEmpty)
        #expect(starts(state.stopped(second, now: at(14))).count == 1)
    }
}
