import Synchronization

/// Wakes a sleeping loop early: `wait(upTo:)` returns when the time is up or
/// when someone rings, whichever comes first. A ring while nobody waits is kept
/// for the next wait, so no ring is lost.
package final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the current wait ends by itself.
        var wakesAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    package init() {}

    /// Rings only when the sleeper would otherwise wake after `instant`: a
    /// change that can make nothing due before `instant` need not wake it (on
    /// a busy host this saves a wake-up per invocation).
    package func ring(ifSleepingPast instant: ContinuousClock.Instant) {
        let needed = state.withLock { state in
            guard let wakesAt = state.wakesAt, state.waiter != nil else { return true }
            return wakesAt > instant
        }
        if needed { ring() }
    }

    package func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    package func wait(upTo duration: Duration) async {
        state.withLock { $0.wakesAt = .now + duration }
        defer { state.withLock { $0.wakesAt = nil } }
        await withTaskCancellationHandler {
            await waitForRingOrTimeout(duration)
        } onCancel: {
            ring()
        }
    }

    private func waitForRingOrTimeout(_ duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.rung {
                            state.rung = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                // Only a sleep that ran its full course rings; a cancelled one does not.
                if (try? await Task.sleep(for: duration)) != nil { self.ring() }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
