import Synchronization

/// How long the gateway waits for a client, and how many clients it keeps.
///
/// The defaults follow nginx's: `client_header_timeout` 60 s there, 10 s here
/// (a request head is a few hundred bytes; a client that needs more than ten
/// seconds for it is trickling on purpose); `keepalive_timeout` 75 s there,
/// 60 s here (below the 90 s AWS's SDKs and most proxies keep a pooled
/// connection before they drop it themselves, so the gateway rarely closes one
/// a client is about to reuse); `worker_connections` 512 per worker there,
/// 1,024 here for the whole gateway: each open connection costs a file
/// descriptor and a few KB, so 1,024 stays far below the default `ulimit -n`
/// of 1,048,576 on Debian and the engine's own limits, while it is far above
/// what one machine's functions can serve at once (`--max-environments`
/// defaults to 64).
public struct ConnectionLimits: Sendable, Equatable {
    /// A request head must be complete within this time of the connection
    /// opening, or of its first byte on a kept-alive connection.
    public var headerTimeout: Duration
    /// A kept-alive connection with no request started is closed after this.
    public var idleTimeout: Duration
    /// Connections open at once; one more is closed as soon as it is accepted.
    public var maxConnections: Int

    public init(headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), maxConnections: Int = 1024) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// What the gateway did with its connections since it started.
public struct ConnectionStatistics: Sendable, Equatable {
    /// Open now (admitted, not yet closed).
    public var open: Int
    /// Closed at once because ``ConnectionLimits/maxConnections`` were open.
    public var refused: Int
    /// Closed because a request head did not arrive in time.
    public var headerTimeouts: Int
    /// Kept-alive connections closed for being idle.
    public var idleTimeouts: Int
    /// Closed because the request could not be parsed (answered 400 when possible).
    public var malformed: Int
}

/// The gateway's connection counts, shared by every event loop.
final class ConnectionCounters: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let headerTimeouts = Atomic<Int>(0)
    private let idleTimeouts = Atomic<Int>(0)
    private let malformed = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a place for a new connection; false (and counted as refused) when all are taken.
    func admit() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        refused.wrappingAdd(1, ordering: .relaxed)
        return false
    }

    /// Gives back the place of an admitted connection that closed.
    func release() { open.wrappingSubtract(1, ordering: .acquiringAndReleasing) }

    func countHeaderTimeout() { headerTimeouts.wrappingAdd(1, ordering: .relaxed) }
    func countIdleTimeout() { idleTimeouts.wrappingAdd(1, ordering: .relaxed) }
    func countMalformed() { malformed.wrappingAdd(1, ordering: .relaxed) }

    var statistics: ConnectionStatistics {
        ConnectionStatistics(
            open: open.load(ordering: .relaxed), refused: refused.load(ordering: .relaxed),
            headerTimeouts: headerTimeouts.load(ordering: .relaxed), idleTimeouts: idleTimeouts.load(ordering: .relaxed),
            malformed: malformed.load(ordering: .relaxed))
    }
}
