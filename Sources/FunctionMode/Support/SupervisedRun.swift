/// The shape of every runner's `run()` (the function host, the service
/// backend, the task runner): the work it starts runs in a task of its own,
/// awaited here rather than a child of the caller's, so cancelling `run()`
/// never cancels an engine call half-way (a container created and never
/// removed) — it stops the timers instead, which then shut down. `run()`
/// returns once the timers, the shutdown and every job of `work` are over.
package enum SupervisedRun {
    package static func run(
        work: WorkQueue, timers: @escaping @Sendable () async -> Void, shutdown: @escaping @Sendable () async -> Void,
        stopTimers: @escaping @Sendable () -> Void
    ) async {
        let worker = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await work.run() }
                await timers()
                await shutdown()
            }
        }
        await withTaskCancellationHandler {
            await worker.value
        } onCancel: {
            stopTimers()
        }
    }

    /// What a timer loop over named state machines sees on one pass.
    package struct Pass {
        /// The loop ends (stopped, or a drain is over).
        package var stop: Bool
        /// The machines whose next wake-up has come.
        package var due: [String]
        /// The earliest next wake-up of any machine.
        package var next: ContinuousClock.Instant?
        /// A drain is under way: look again often, whether its last work ended.
        package var draining: Bool

        package init(stop: Bool, due: [String], next: ContinuousClock.Instant?, draining: Bool) {
            self.stop = stop
            self.due = due
            self.next = next
            self.draining = draining
        }
    }

    /// Ticks each due machine (in name order), then sleeps until the next
    /// wake-up, a ring of `doorbell`, or a second at most; until a pass says stop.
    package static func timers(
        doorbell: Doorbell, pass: (ContinuousClock.Instant) -> Pass, tick: (String, ContinuousClock.Instant) -> Void
    ) async {
        while true {
            let now = ContinuousClock.now
            let current = pass(now)
            if current.stop { return }
            for name in current.due.sorted() { tick(name, now) }
            if !current.due.isEmpty { continue }
            let wait = min(current.next.map { $0 - now } ?? .seconds(1), current.draining ? .milliseconds(50) : .seconds(1))
            await doorbell.wait(upTo: max(wait, .milliseconds(1)))
        }
    }
}
