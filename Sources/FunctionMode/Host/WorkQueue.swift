import Synchronization

/// The work a host starts (engine calls, watchers, output streams), run by
/// the task group of its `run()`: `run()` owns it and returns only once it is
/// over, shutdown can wait for what matters, and once the queue is closed
/// nothing more starts.
package final class WorkQueue: Sendable {
    package typealias Job = @Sendable () async -> Void

    private struct State {
        var open = true
        /// Jobs queued or running that ``pending`` counts.
        var pending = 0
    }

    private let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    private let state = Mutex(State())

    package init() {
        (jobs, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Queues `job`; returns false, and drops it, once the queue is closed.
    /// - Parameter counted: whether ``pending`` counts it until it ends (a job
    ///   that ends only with its container, like an output stream, is not).
    @discardableResult
    package func submit(counted: Bool = true, _ job: @escaping Job) -> Bool {
        let wrapped: Job
        if counted {
            wrapped = { [self] in
                await job()
                finished()
            }
        } else {
            wrapped = job
        }
        return state.withLock { state in
            guard state.open else { return false }
            if counted { state.pending += 1 }
            continuation.yield(wrapped)
            return true
        }
    }

    private func finished() {
        state.withLock { $0.pending -= 1 }
    }

    /// Whether the queue takes no more jobs.
    package var isClosed: Bool { state.withLock { !$0.open } }

    /// Counted jobs queued or running.
    package var pending: Int { state.withLock { $0.pending } }

    /// Takes no more jobs; those queued still run. Safe to call more than once.
    package func close() {
        state.withLock { state in
            state.open = false
            continuation.finish()
        }
    }

    /// Runs the jobs as they come, each in a child task, until the queue is
    /// closed and every job has ended.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }
}
