/// When a connection must have sent its next request head, as a pure state
/// machine: the I/O layer (``ConnectionGuard``) reports what happened and
/// executes the action it gets back (arm or cancel the one timer, close).
///
/// - A new connection has ``ConnectionLimits/headerTimeout`` to send a whole
///   request head.
/// - Between requests of a kept-alive connection the idle timeout runs; the
///   first byte of the next request replaces it with the header timeout (as
///   nginx's `keepalive_timeout` and `client_header_timeout`).
/// - While a request is being read or answered, neither runs: a body's pace
///   and a function's run time have their own limits.
struct ConnectionDeadlines: Equatable {
    enum Deadline: Equatable, Sendable {
        case header
        case idle
    }

    enum Action: Equatable {
        case none
        /// Start the timer for this deadline (replacing any other).
        case arm(Deadline)
        /// Stop the timer.
        case disarm
        /// The deadline passed: close the connection; `answer` when part of a
        /// request arrived (it gets 408 before the close), else close quietly.
        case timedOut(Deadline, answer: Bool)
    }

    enum Phase: Equatable {
        /// Waiting for a request head; `started` once a byte of it arrived.
        case awaitingHead(started: Bool)
        /// Kept alive between requests, nothing of the next one yet.
        case idle
        /// A request head arrived; its response has not ended.
        case busy
    }

    private(set) var phase = Phase.awaitingHead(started: false)
    /// Heads received whose responses have not ended (more than one only if
    /// heads reach the guard before earlier responses end).
    private(set) var inFlight = 0

    /// The connection opened.
    mutating func opened() -> Action {
        phase = .awaitingHead(started: false)
        return .arm(.header)
    }

    /// Bytes arrived from the client.
    mutating func bytesArrived() -> Action {
        switch phase {
        case .idle:
            phase = .awaitingHead(started: true)
            return .arm(.header)
        case .awaitingHead(started: false):
            phase = .awaitingHead(started: true)
            return .none
        case .awaitingHead(started: true), .busy:
            return .none
        }
    }

    /// A whole request head was parsed.
    mutating func headReceived() -> Action {
        inFlight += 1
        phase = .busy
        return .disarm
    }

    /// A response was written to its end.
    mutating func responseEnded() -> Action {
        inFlight = max(0, inFlight - 1)
        guard inFlight == 0 else { return .none }
        phase = .idle
        return .arm(.idle)
    }

    /// A timer fired; stale firings (the phase moved on) do nothing.
    mutating func deadlinePassed(_ deadline: Deadline) -> Action {
        switch (phase, deadline) {
        case (.awaitingHead(let started), .header):
            return .timedOut(.header, answer: started)
        case (.idle, .idle):
            return .timedOut(.idle, answer: false)
        default:
            return .none
        }
    }

    /// True while a response may be under way: an error then cannot be answered, only closed.
    var isAnswering: Bool { phase == .busy }
}
