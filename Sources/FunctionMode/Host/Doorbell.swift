import Synchronization

/// Wakes a sleeping loop early: `wait(upTo:)` returns when the time is up or
/// when someone rings, whichever comes first. A ring while nobody waits is kept
/// for the next wait, so no ring is lost.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func ring() {
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

    func wait(upTo duration: Duration) async {
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
