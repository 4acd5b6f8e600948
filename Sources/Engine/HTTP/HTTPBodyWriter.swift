import Synchronization

/// Where a streamed request body is written. Writes suspend while more than
/// `capacity` bytes wait for curl, so a large body never sits in memory whole.
public final class HTTPBodyWriter: Sendable {
    struct State {
        var buffer: [UInt8] = []
        var readIndex = 0
        var finished = false
        var failed = false
        var closed = false
        var readerPaused = false
        var spaceWaiter: CheckedContinuation<Void, any Error>?
        var pending: Int { buffer.count - readIndex }
    }

    private let state = Mutex(State())
    private let capacity: Int
    /// Asks the curl loop to resume a transfer paused for want of data.
    private let unpause: @Sendable () -> Void

    init(capacity: Int = 1 << 20, unpause: @escaping @Sendable () -> Void) {
        self.capacity = capacity
        self.unpause = unpause
    }

    /// Queues bytes for sending; suspends while the buffer is full.
    public func write(_ bytes: some Collection<UInt8>) async throws {
        guard !bytes.isEmpty else { return }
        while true {
            let outcome: (written: Bool, wake: Bool) = try state.withLock { state in
                if state.closed || state.failed { throw CancellationError() }
                guard state.pending < capacity else { return (false, false) }
                state.buffer.append(contentsOf: bytes)
                let wake = state.readerPaused
                state.readerPaused = false
                return (true, wake)
            }
            if outcome.wake { unpause() }
            if outcome.written { return }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    if state.closed || state.failed || state.pending < capacity { return true }
                    state.spaceWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            try Task.checkCancellation()
        }
    }

    /// The body is complete.
    func finish() {
        let wake = state.withLock { state in
            state.finished = true
            defer { state.readerPaused = false }
            return state.readerPaused
        }
        if wake { unpause() }
    }

    /// The producer failed: the transfer is aborted.
    func fail() {
        let wake = state.withLock { state in
            state.failed = true
            defer { state.readerPaused = false }
            return state.readerPaused
        }
        if wake { unpause() }
    }

    /// The transfer ended: release a waiting producer.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.spaceWaiter = nil }
            return state.spaceWaiter
        }
        waiter?.resume(throwing: CancellationError())
    }

    enum ReadResult {
        case bytes(Int)
        case pause
        case end
        case abort
    }

    /// Called on the curl thread from the read callback.
    func read(into destination: UnsafeMutableRawBufferPointer) -> ReadResult {
        let (result, waiter): (ReadResult, CheckedContinuation<Void, any Error>?) = state.withLock { state in
            if state.failed { return (.abort, nil) }
            let available = state.pending
            if available == 0 {
                if state.finished { return (.end, nil) }
                state.readerPaused = true
                return (.pause, nil)
            }
            let count = min(available, destination.count)
            let readIndex = state.readIndex
            state.buffer.withUnsafeBytes { source in
                guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                to.copyMemory(from: from + readIndex, byteCount: count)
            }
            state.readIndex += count
            if state.readIndex == state.buffer.count {
                state.buffer.removeAll(keepingCapacity: true)
                state.readIndex = 0
            } else if state.readIndex > capacity {
                state.buffer.removeFirst(state.readIndex)
                state.readIndex = 0
            }
            var waiter: CheckedContinuation<Void, any Error>?
            if state.pending < capacity {
                waiter = state.spaceWaiter
                state.spaceWaiter = nil
            }
            return (.bytes(count), waiter)
        }
        waiter?.resume()
        return result
    }
}
