import Foundation
import GRDB

/// One message of the asynchronous event queue (table `queue_message`).
///
/// A message is `ready` (waiting until `visibleAt`), `leased` (a consumer holds it until
/// `visibleAt`; past that the lease has expired and it is delivered again) or `dead`
/// (in the queue's dead letters, with `deadLetterReason`).
public struct QueueMessage: Codable, Sendable, Hashable, Identifiable {
    public enum State: String, Codable, Sendable, Hashable, CaseIterable {
        case ready, leased, dead
    }

    /// Assigned by the store on enqueue; increasing, never reused.
    public var id: Int64
    public var queue: String
    public var payload: Data
    /// When the event was accepted (or redriven), ms since the epoch; its age counts from here.
    public var enqueuedAt: Int64
    /// Deliveries so far (each lease counts one). Doubles as the lease's fencing token.
    public var attempts: Int
    public var maxAttempts: Int
    /// Ready: when it can be leased. Leased: when the lease expires.
    public var visibleAt: Int64
    /// Older than this (ms since `enqueuedAt`) the event is dead-lettered instead of retried.
    public var maxEventAgeMs: Int64
    public var lastError: String?
    public var state: State
    public var deadLetteredAt: Int64?
    public var deadLetterReason: String?

    /// The message's age at `now`, in ms.
    public func age(at now: Int64) -> Int64 { now - enqueuedAt }

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, queue, payload
        case enqueuedAt = "enqueued_at"
        case attempts
        case maxAttempts = "max_attempts"
        case visibleAt = "visible_at"
        case maxEventAgeMs = "max_event_age_ms"
        case lastError = "last_error"
        case state
        case deadLetteredAt = "dead_lettered_at"
        case deadLetterReason = "dead_letter_reason"
    }
}

extension QueueMessage: FetchableRecord, TableRecord {
    public static let databaseTableName = "queue_message"
}

/// How many times and for how long an event is retried (Lambda's asynchronous invocation
/// defaults: 3 attempts, 6 hours, back-off about 1 minute then about 2 minutes).
public struct RetryPolicy: Sendable, Hashable {
    /// Deliveries before the event is dead-lettered (1 + retries). At least 1.
    public var maxAttempts: Int
    /// Older than this the event is dead-lettered rather than delivered or retried.
    public var maxEventAge: Duration
    /// Delay before retry n (index 0 after the first failure); the last entry repeats.
    public var backoff: [Duration]

    public init(maxAttempts: Int = 3, maxEventAge: Duration = .seconds(6 * 3600),
                backoff: [Duration] = [.seconds(60), .seconds(120)]) {
        self.maxAttempts = maxAttempts
        self.maxEventAge = maxEventAge
        self.backoff = backoff
    }

    /// Lambda's defaults.
    public static let lambda = RetryPolicy()

    /// The back-off to pass to `fail(id:error:now:retryAfter:)` after a message's
    /// `attempts`-th delivery failed (`attempts` ≥ 1).
    public func retryDelay(afterAttempt attempts: Int) -> Duration {
        guard !backoff.isEmpty else { return .zero }
        return backoff[min(max(attempts - 1, 0), backoff.count - 1)]
    }
}

/// What `fail` did with a message.
public enum FailOutcome: Sendable, Hashable {
    /// Back in the queue, deliverable again at `visibleAt`.
    case retrying(visibleAt: Int64)
    /// Moved to the dead letters, for this reason.
    case deadLettered(reason: String)
    /// Not applied: no such message, it is not leased, or (with `attempt:`) another
    /// delivery has leased it since.
    case notLeased
}

/// Message counts for one queue at an instant.
public struct QueueDepth: Sendable, Hashable {
    /// Deliverable now (including messages whose lease expired).
    public var visible: Int
    /// Leased, lease not yet expired.
    public var inFlight: Int
    /// Waiting for a retry back-off or an enqueue delay.
    public var delayed: Int
    public var deadLetters: Int
    /// Messages not dead-lettered.
    public var total: Int { visible + inFlight + delayed }

    public init(visible: Int = 0, inFlight: Int = 0, delayed: Int = 0, deadLetters: Int = 0) {
        self.visible = visible
        self.inFlight = inFlight
        self.delayed = delayed
        self.deadLetters = deadLetters
    }
}
