import Synchronization

/// One run of a task as it ended: what `tandem run` prints and the ledger keeps.
public struct TaskRunResult: Sendable, Equatable {
    public var id: TaskRunID
    public var task: String
    public var attempts: Int
    public var end: TaskEnd
    /// When its last attempt started, ms since the Unix epoch (nil: it never started).
    public var startedAtEpochMilliseconds: Int64?
    /// Run time of its last attempt.
    public var duration: Duration
    /// CPU time its last attempt used, as the engine measured it.
    public var cpuSeconds: Double?
    /// The most memory its last attempt used.
    public var maxMemoryBytes: Int64?
    /// Its memory limit and CPUs, for the cost.
    public var memoryBytes: Int64
    public var cpus: Double?
}

/// A run's output as it comes (kept up to a bound, newest last) and its
/// result once it ends, for any number of readers: each reader gets what
/// was kept so far, then what follows, until the run ends.
public final class TaskRunOutput: Sendable {
    struct State {
        var kept: [UInt8] = []
        var dropped = 0
        var result: TaskRunResult?
        var readers: [Int: AsyncStream<[UInt8]>.Continuation] = [:]
        var waiters: [CheckedContinuation<TaskRunResult, Never>] = []
        var nextReader = 0
    }

    /// The most output kept for late readers.
    static let keep = 1 << 20
    private let state = Mutex(State())

    init() {}

    func append(_ bytes: [UInt8]) {
        state.withLock { state in
            state.kept += bytes
            if state.kept.count > Self.keep {
                let excess = state.kept.count - Self.keep
                state.kept.removeFirst(excess)
                state.dropped += excess
            }
            for reader in state.readers.values { reader.yield(bytes) }
        }
    }

    func finish(_ result: TaskRunResult) {
        // Finished outside the lock: a stream's termination handler takes it.
        let (readers, waiters) = state.withLock { state in
            state.result = result
            defer {
                state.readers = [:]
                state.waiters = []
            }
            return (Array(state.readers.values), state.waiters)
        }
        for reader in readers { reader.finish() }
        for waiter in waiters { waiter.resume(returning: result) }
    }

    /// The output so far, then as it comes, until the run ends.
    public func stream() -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        state.withLock { state in
            if state.dropped > 0 {
                continuation.yield(Array("[\(state.dropped) earlier bytes not kept]\n".utf8))
            }
            if !state.kept.isEmpty { continuation.yield(state.kept) }
            if state.result != nil {
                continuation.finish()
                return
            }
            let key = state.nextReader
            state.nextReader += 1
            state.readers[key] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.readers.removeValue(forKey: key) }
            }
        }
        return stream
    }

    /// The result, once the run has ended.
    public func result() async -> TaskRunResult {
        await withCheckedContinuation { waiter in
            let done = state.withLock { state -> TaskRunResult? in
                if let result = state.result { return result }
                state.waiters.append(waiter)
                return nil
            }
            if let done { waiter.resume(returning: done) }
        }
    }

    /// The result if the run has ended.
    public var finished: TaskRunResult? { state.withLock { $0.result } }
}
