/// When a slot whose replica keeps ending may start again, like Kubernetes'
/// CrashLoopBackOff: the first end is replaced at once, the next after
/// 10 s, then 20 s, 40 s… up to 5 min; a replica that ran healthy for
/// 10 min resets the count.
public struct CrashBackoff: Sendable, Equatable {
    public var first: Duration
    public var cap: Duration
    public var resetAfter: Duration

    public init(first: Duration = .seconds(10), cap: Duration = .seconds(300), resetAfter: Duration = .seconds(600)) {
        self.first = first
        self.cap = cap
        self.resetAfter = resetAfter
    }

    /// The wait before the next start, after the `consecutive`-th end in a row (1-based).
    public func delay(afterEnd consecutive: Int) -> Duration {
        guard consecutive > 1 else { return .zero }
        var delay = first
        for _ in 0..<min(consecutive - 2, 32) {
            delay = delay * 2
            if delay >= cap { return cap }
        }
        return min(delay, cap)
    }
}

/// What a slot remembers across its replicas.
struct SlotHistory: Sendable, Equatable {
    /// Replicas of this slot that ended on their own, in all.
    var restarts = 0
    /// Ends in a row without 10 min of healthy running between them.
    var consecutive = 0
    var lastExit: ReplicaExit?
    /// No replica starts in this slot before then.
    var retryAt: ContinuousClock.Instant?
}
