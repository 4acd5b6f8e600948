import Engine
import FunctionMode

// The timer loop (timeouts, re-runs), the drain and the shutdown.
extension LocalTaskRunner {
    /// Runs the timers and the engine work, until cancelled or until a drain
    /// is over; then removes every task container and returns once that and
    /// all the work it started are over.
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
                let idle = core.states.values.allSatisfy(\.isIdle) && core.removing.isEmpty
                let drained = core.drainDeadline.map { $0 <= now || idle } ?? false
                let wakeUps = core.states.merging(core.removing) { current, _ in current }.mapValues(\.nextWakeUp)
                return SupervisedRun.Pass(
                    stop: core.timersStopped || drained, due: wakeUps.filter { $0.value.map { $0 <= now } ?? false }.map(\.key),
                    next: wakeUps.values.compactMap { $0 }.min(), draining: core.drainDeadline != nil)
            }
        }, tick: { name, now in event(name) { $0.tick(now: now) } })
    }

    /// Refuses new runs; waiting ones end as cancelled; running ones are
    /// stopped (SIGTERM, SIGKILL after their stop timeout, at most `within`).
    public func drain(within: Duration) {
        let now = ContinuousClock.now
        let all = core.withLock { core -> [(String, [TaskAction])] in
            let deadline = now + within
            core.drainDeadline = min(core.drainDeadline ?? deadline, deadline)
            return core.states.keys.sorted().map { name in
                var state = core.states[name]!
                let actions = state.drain(now: now).map { action -> TaskAction in
                    guard case .stop(let id, let container, let grace) = action else { return action }
                    return .stop(id, container: container, grace: min(grace, within))
                }
                core.states[name] = state
                return (name, actions)
            }
        }
        for (name, actions) in all { perform(name, actions) }
    }

    /// Removes every task container now; returns when they are gone.
    public func shutdown() async {
        let containers = core.withLock { core -> [String] in
            core.stopped = true
            core.timersStopped = true
            return core.attempts.values.map(\.container)
        }
        doorbell.ring()
        for container in containers { try? await engine.removeContainer(container, force: true) }
        work.close()
    }
}
