/// A one-consumer stream of what a transfer delivers (body chunks, log chunks,
/// events). When the consumer stops — breaks out of its `for try await` loop,
/// is cancelled, or drops the stream — the underlying transfer is aborted and
/// removed from curl at once.
public struct TransferStream<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = any Error

    let base: AsyncThrowingStream<Element, any Error>
    let stop: @Sendable () -> Void

    init(_ base: AsyncThrowingStream<Element, any Error>, stop: @escaping @Sendable () -> Void) {
        self.base = base
        self.stop = stop
    }

    /// Ends the stream and aborts its transfer.
    public func cancel() { stop() }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), token: StopOnRelease(stop))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Element, any Error>.AsyncIterator
        let token: StopOnRelease

        public mutating func next() async throws -> Element? {
            try await base.next()
        }
    }

    /// Stops the transfer when the last iterator copy goes away (e.g. after `break`).
    final class StopOnRelease: Sendable {
        let stop: @Sendable () -> Void
        init(_ stop: @escaping @Sendable () -> Void) { self.stop = stop }
        deinit { stop() }
    }
}
