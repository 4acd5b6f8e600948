import Foundation

// The timer loop, the drain and the shutdown.
extension FunctionHost {
    /// Runs the timers (timeouts, freezing, reaping) and the engine work the
    /// host starts, until cancelled or until a drain (``drain(within:)``) is
    /// over; then shuts every environment down, and returns once that and all
    /// the work it started are over.
    public func run() async {
        await SupervisedRun.run(work: work, timers: { await self.runTimers() }, shutdown: { await self.shutdown() },
                                stopTimers: { self.stopTimers() })
    }

    /// Ends the timer loop (it then shuts down).
    func stopTimers() {
        core.withLock { $0.timersStopped = true }
        doorbell.ring()
    }

    /// The timers: timeouts, freezing, reaping; ends when stopped or when a drain is over.
    func runTimers() async {
        let clock = ContinuousClock()
        while true {
            let (deadline, drained, stopped) = core.withLock { core in
                (core.fleet.nextDeadline(), core.drainDeadline.map { $0 <= clock.now || core.calls.isEmpty },
                 core.timersStopped)
            }
            if stopped || drained == true { break }
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
    /// starts after it begins; a start in progress removes its own container,
    /// and it returns once the engine work in flight is over (then the work
    /// queue takes no more). Safe to call more than once.
    public func shutdown() async {
        let (actions, containers, endpoints) = core.withLock { core in
            core.stopped = true
            core.timersStopped = true
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
        doorbell.ring()
        // Starts caught between create and start remove their own container;
        // watchers see their container go. Wait for that engine work, then
        // take no more.
        let giveUp = ContinuousClock.now + .seconds(15)
        while work.pending > 0, ContinuousClock.now < giveUp {
            try? await Task.sleep(for: .milliseconds(10))
        }
        work.close()
    }

    /// Tells the timer loop that something changed. A change can make something
    /// due no sooner than the shortest of the freeze grace, the init timeout and
    /// any function's timeout; the loop is woken only if it sleeps past that.
    func wake() {
        let gap = Duration.nanoseconds(shortestDeadline.load(ordering: .relaxed))
        doorbell.ring(ifSleepingPast: .now + gap)
    }
}
