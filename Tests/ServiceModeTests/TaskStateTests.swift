import Testing
@testable import ServiceMode

private let t0 = ContinuousClock.Instant.now
private func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }
private func run(_ n: Int) -> TaskRunID { TaskRunID("run-\(n)") }

private func task(retries: Int = 0, reserved: Int? = nil, timeout: Duration? = nil) -> TaskState {
    TaskState(spec: TaskSpec(name: "job", revision: "r1", image: "job:1", timeout: timeout, retries: retries,
                             reserved: reserved, stopTimeout: .seconds(3), retryBackoff: .seconds(2), retryCap: .seconds(5)))
}

private func starts(_ actions: [TaskAction]) -> [TaskRunID] {
    actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
}

@Suite("Task runs (pure)")
struct TaskStateTests {
    @Test("a run starts at once and finishes with its exit code")
    func runsToCompletion() {
        var state = task()
        #expect(state.request(run(1), now: at(0)) == [.start(run(1), attempt: 1)])
        #expect(state.started(run(1), container: "c1", now: at(0.2)).isEmpty)
        #expect(state.running == 1)
        #expect(state.exited(run(1), exitCode: 0, outOfMemory: false, now: at(5))
            == [.finished(run(1), attempts: 1, TaskEnd(.succeeded, exitCode: 0, reason: "exited with code 0"))])
        #expect(state.isIdle)
    }

    @Test("concurrency.reserved bounds runs at once; the next one starts when one ends, in request order")
    func reservedBound() {
        var state = task(reserved: 2)
        #expect(starts(state.request(run(1), now: at(0))) == [run(1)])
        #expect(starts(state.request(run(2), now: at(0))) == [run(2)])
        #expect(state.request(run(3), now: at(0)).isEmpty)
        #expect(state.request(run(4), now: at(0)).isEmpty)
        #expect(state.waiting == 2 && state.running == 2)
        _ = state.started(run(1), container: "c1", now: at(0.1))
        let actions = state.exited(run(1), exitCode: 1, outOfMemory: false, now: at(1))
        #expect(starts(actions) == [run(3)])
        #expect(actions.contains(.finished(run(1), attempts: 1, TaskEnd(.failed, exitCode: 1, reason: "exited with code 1"))))
    }

    @Test("a failed run is re-run `retries` times with a doubling back-off, then reported failed")
    func retries() {
        var state = task(retries: 3)
        _ = state.request(run(1), now: at(0))
        _ = state.started(run(1), container: "c1", now: at(0))
        var actions = state.exited(run(1), exitCode: 2, outOfMemory: false, now: at(1))
        #expect(actions == [.attemptFailed(run(1), attempt: 1, TaskEnd(.failed, exitCode: 2, reason: "exited with code 2"),
                                           retryIn: .seconds(2))])
        #expect(state.nextWakeUp == at(3))
        #expect(state.tick(now: at(2.9)).isEmpty)
        #expect(state.tick(now: at(3)) == [.start(run(1), attempt: 2)])
        _ = state.started(run(1), container: "c2", now: at(3))
        actions = state.exited(run(1), exitCode: 2, outOfMemory: false, now: at(4))
        #expect(actions.contains { if case .attemptFailed(_, 2, _, .seconds(4)) = $0 { true } else { false } })
        _ = state.tick(now: at(8))
        _ = state.started(run(1), container: "c3", now: at(8))
        actions = state.exited(run(1), exitCode: 2, outOfMemory: false, now: at(9))
        #expect(actions.contains { if case .attemptFailed(_, 3, _, .seconds(5)) = $0 { true } else { false } }, "capped")
        _ = state.tick(now: at(14))
        _ = state.started(run(1), container: "c4", now: at(14))
        #expect(state.exited(run(1), exitCode: 2, outOfMemory: false, now: at(15))
            == [.finished(run(1), attempts: 4, TaskEnd(.failed, exitCode: 2, reason: "exited with code 2"))])
    }

    @Test("a run past its timeout is stopped with the stop timeout and ends timed out")
    func timeout() {
        var state = task(timeout: .seconds(10))
        _ = state.request(run(1), now: at(0))
        _ = state.started(run(1), container: "c1", now: at(1))
        #expect(state.nextWakeUp == at(11))
        #expect(state.tick(now: at(10.9)).isEmpty)
        #expect(state.tick(now: at(11)) == [.stop(run(1), container: "c1", grace: .seconds(3))])
        let actions = state.exited(run(1), exitCode: 143, outOfMemory: false, now: at(11.5))
        #expect(actions == [.finished(run(1), attempts: 1, TaskEnd(.timedOut, exitCode: 143, reason: "timed out after 10.0 seconds"))])
    }

    @Test("an OOM kill and a failed start are failed attempts")
    func oomAndStartFailure() {
        var state = task()
        _ = state.request(run(1), now: at(0))
        _ = state.started(run(1), container: "c1", now: at(0))
        #expect(state.exited(run(1), exitCode: 137, outOfMemory: true, now: at(1)) == [
            .finished(run(1), attempts: 1, TaskEnd(.outOfMemory, exitCode: 137, reason: "killed for exceeding its memory limit")),
        ])
        _ = state.request(run(2), now: at(2))
        #expect(state.startFailed(run(2), reason: "no such image", now: at(2)) == [
            .finished(run(2), attempts: 1, TaskEnd(.failed, exitCode: nil, reason: "could not start: no such image")),
        ])
    }

    @Test("a drain cancels waiting runs, stops running ones, and starts nothing more")
    func drain() {
        var state = task(reserved: 1)
        _ = state.request(run(1), now: at(0))
        _ = state.request(run(2), now: at(0))
        _ = state.started(run(1), container: "c1", now: at(0))
        let cancelled = TaskEnd(.cancelled, exitCode: nil, reason: "the controller is stopping")
        let actions = state.drain(now: at(1))
        #expect(actions.contains(.finished(run(2), attempts: 0, cancelled)))
        #expect(actions.contains(.stop(run(1), container: "c1", grace: .seconds(3))))
        #expect(state.exited(run(1), exitCode: 143, outOfMemory: false, now: at(2))
            == [.finished(run(1), attempts: 1, TaskEnd(.cancelled, exitCode: 143, reason: "the controller is stopping"))])
        #expect(state.request(run(3), now: at(3)) == [.finished(run(3), attempts: 0, cancelled)])
        #expect(state.isIdle)
    }

    @Test("a re-run waiting for room under reserved sets no wake-up (the timer loop never spins); a refused start while draining ends the run")
    func noSpinWhileFull() {
        var state = task(retries: 1, reserved: 1)
        _ = state.request(run(1), now: at(0))
        _ = state.started(run(1), container: "c1", now: at(0))
        _ = state.request(run(2), now: at(0))
        // run 1 fails: it backs off 2 s and run 2 takes the one place.
        let actions = state.exited(run(1), exitCode: 1, outOfMemory: false, now: at(1))
        #expect(starts(actions) == [run(2)])
        _ = state.started(run(2), container: "c2", now: at(1))
        #expect(state.nextWakeUp == nil, "no time at which run 1 could start: it starts when run 2 ends")
        #expect(starts(state.tick(now: at(10))).isEmpty)
        #expect(starts(state.exited(run(2), exitCode: 0, outOfMemory: false, now: at(11))) == [run(1)])

        var draining = task()
        _ = draining.request(run(3), now: at(0))
        _ = draining.drain(now: at(0.1))
        #expect(draining.startRefused(run(3), retryIn: .seconds(1), now: at(0.2))
            == [.finished(run(3), attempts: 0, TaskEnd(.cancelled, exitCode: nil, reason: "the controller is stopping"))])
        #expect(draining.isIdle && draining.nextWakeUp == nil)
    }
}
