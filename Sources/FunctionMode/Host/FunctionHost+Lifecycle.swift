import Foundation

// The timer loop, the drain and the shutdown.
extension FunctionHost {
    /// Runs the timers (timeouts, freezing, reaping) until cancelled, or until a
    /// drain (``drain(within:)``) is over; then shuts every environment down.
    public func run() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let (deadline, drained) = core.withLock { core in
                (core.fleet.nextDeadline(), core.drainDeadline.map { $0 <= clock.now || core.calls.isEmpty })
            }
            if drained == true { break }
            if drained == false {
                // Draining: look again soon whether the last invocation ended.
                let now = clock.now
                if let deadline, deadline <= now { perform(core.withLock { $0.fleet.tick(now: now) }) }
                await doorbell.wait(upTo: .milliseconds(20))
                continue
            }
            let now = clock.now
            if let deadline, deadline <= now {
                let actions = core.withLock { $0.fleet.tick(now: now) }
                perform(actions)
                continue
            }
            await doorbell.wait(upTo: min(deadline.map { $0 - now } ?? .seconds(1), .seconds(1)))
        }
        // This task is cancelled, and so would be every engine call made from
        // it: shut down from a fresh task and wait for it.
        await Task { await self.shutdown() }.value
    }

    /// Begins a graceful stop: new invocations fail at once (`Runtime.ShuttingDown`),
    /// accepted ones go on for up to `within` (each still bounded by its own
    /// timeout); then ``run()`` ends and every environment is removed.
    public func drain(within: Duration) {
        core.withLock { core in
            core.fleet.drain()
            let deadline = ContinuousClock.now + within
            core.drainDeadline = min(core.drainDeadline ?? deadline, deadline)
        }
        doorbell.ring(ifSleepingPast: .now)
    }

    /// Destroys every environment and fails waiting invocations. No container
    /// starts after it begins; a start in progress removes its own container.
    /// Safe to call more than once.
    public func shutdown() async {
        let (actions, containers, endpoints) = core.withLock { core in
            core.stopped = true
            let actions = core.fleet.shutdown()
            for env in core.environments.keys { core.environments[env]?.destroyRequested = true }
            let containers = core.environments.values.compactMap { env in env.containerID.map { ($0, env.paused) } }
            let endpoints = core.environments.values.compactMap(\.endpoint)
            return (actions, containers, endpoints)
        }
        for action in actions {
            if case .fail = action { perform([action]) }
        }
        await withTaskGroup(of: Void.self) { group in
            for (id, paused) in containers {
                group.addTask { await self.removeContainer(id, paused: paused) }
            }
        }
        for endpoint in endpoints { await endpoint.close() }
        // Starts caught between create and start remove their own container.
        let giveUp = ContinuousClock.now + .seconds(15)
        while core.withLock({ $0.starting > 0 }), ContinuousClock.now < giveUp {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Tells the timer loop that something changed. A change can make something
    /// due no sooner than the shortest of the freeze grace, the init timeout and
    /// any function's timeout; the loop is woken only if it sleeps past that.
    func wake() {
        let gap = Duration.nanoseconds(shortestDeadline.load(ordering: .relaxed))
        doorbell.ring(ifSleepingPast: .now + gap)
    }
}
