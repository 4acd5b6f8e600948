import Foundation
import GRDB

/// The asynchronous event queue: at-least-once delivery with leases, retries with back-off,
/// a maximum event age and dead letters (Lambda's asynchronous invocation; later the
/// manifest's `queues:`).
///
/// A consumer `lease`s the next deliverable message, which hides it for the visibility
/// timeout and counts an attempt; it then `complete`s it (deleted) or `fail`s it (retried
/// after a back-off, or dead-lettered). A consumer that dies leaves its lease to expire,
/// after which the message is delivered again. Every operation is one write transaction,
/// so two consumers never hold the same message at once.
///
/// `attempt:` fences a consumer to its own delivery: pass the leased message's `attempts`
/// and a late call from a consumer whose lease expired (and whose message was leased again
/// since) does nothing.
extension Store {
    /// Accepts an event. Returns its id once the row is committed (durably, with `.full`).
    ///
    /// - Parameters:
    ///   - policy: its maximum attempts and maximum event age are stored with the message.
    ///   - delay: it becomes deliverable at `now + delay`.
    @discardableResult
    /// - Parameter deadLetterQueue: when the message is dead-lettered (for any reason),
    ///   a copy of its payload joins this queue in the same transaction.
    public func enqueue(
        queue: String, payload: Data, now: Int64, policy: RetryPolicy = .lambda, delay: Duration = .zero,
        deadLetterQueue: String? = nil
    ) async throws -> Int64 {
        try Self.check("enqueue", !queue.isEmpty, "the queue name is empty")
        try Self.check("enqueue", policy.maxAttempts >= 1, "maxAttempts must be at least 1, got \(policy.maxAttempts)")
        try Self.check("enqueue", policy.maxEventAge > .zero, "maxEventAge must be positive")
        try Self.check("enqueue", delay >= .zero, "delay must not be negative")
        let maxAge = policy.maxEventAge.milliseconds
        let visibleAt = now + delay.milliseconds
        return try await write("enqueue") { db in
            try db.cachedStatement(sql: """
                INSERT INTO queue_message (queue, payload, enqueued_at, attempts, max_attempts, visible_at, max_event_age_ms,
                  state, dead_letter_queue)
                VALUES (?, ?, ?, 0, ?, ?, ?, 'ready', ?)
                """).execute(arguments: [queue, payload, now, policy.maxAttempts, visibleAt, maxAge, deadLetterQueue])
            return db.lastInsertedRowID
        }
    }

    /// Leases the next deliverable message of `queue` (FIFO by `visibleAt`, then id): it is
    /// hidden until `now + visibility` and its `attempts` is incremented. `nil` if none.
    ///
    /// On the way, a message that is past its maximum event age, or whose last attempt's
    /// lease expired (its consumer died), is moved to the dead letters instead.
    public func lease(queue: String, now: Int64, visibility: Duration) async throws -> QueueMessage? {
        try Self.check("lease", visibility > .zero, "visibility must be positive")
        let leaseEnd = now + visibility.milliseconds
        return try await write("lease") { db in
            let next = try db.cachedStatement(sql: """
                SELECT * FROM queue_message
                WHERE queue = ? AND state != 'dead' AND visible_at <= ?
                ORDER BY visible_at, id LIMIT 1
                """)
            while var message = try QueueMessage.fetchOne(next, arguments: [queue, now]) {
                if message.age(at: now) > message.maxEventAgeMs {
                    try Self.deadLetter(db, message.id, now: now,
                                        reason: "older than the maximum event age (\(message.maxEventAgeMs) ms) before delivery")
                    continue
                }
                if message.attempts >= message.maxAttempts {
                    try Self.deadLetter(db, message.id, now: now,
                                        reason: "the lease of the last of \(message.maxAttempts) attempts expired")
                    continue
                }
                try db.cachedStatement(sql: """
                    UPDATE queue_message SET state = 'leased', attempts = attempts + 1, visible_at = ? WHERE id = ?
                    """).execute(arguments: [leaseEnd, message.id])
                message.state = .leased
                message.attempts += 1
                message.visibleAt = leaseEnd
                return message
            }
            return nil
        }
    }

    /// Deletes a leased message: it was handled. Returns `false` (and does nothing) if there
    /// is no such leased message, or `attempt` is given and is not its current delivery.
    /// - Parameter record: the ledger row of the run that handled it, written in the same
    ///   transaction (it ran, whether or not the message was still leased), so a crash
    ///   can never leave a handled event without its row, or a row without its event handled.
    @discardableResult
    public func complete(id: Int64, attempt: Int? = nil, record: InvocationRecord? = nil) async throws -> Bool {
        try await write("complete") { db in
            try record?.insert(db)
            try db.cachedStatement(sql: """
                DELETE FROM queue_message WHERE id = ? AND state = 'leased' AND (? IS NULL OR attempts = ?)
                """).execute(arguments: [id, attempt, attempt])
            return db.changesCount > 0
        }
    }

    /// Reports that handling a leased message failed with `error`.
    ///
    /// It is retried (visible again at `now + retryAfter`, see `RetryPolicy.retryDelay`) if
    /// it has attempts left and will still be within its maximum event age then; otherwise
    /// it moves to the dead letters with the reason.
    /// - Parameter record: the ledger row of the failed attempt, written in the same transaction.
    @discardableResult
    public func fail(
        id: Int64, attempt: Int? = nil, error: String, now: Int64, retryAfter: Duration, record: InvocationRecord? = nil
    ) async throws -> FailOutcome {
        try Self.check("fail", retryAfter >= .zero, "retryAfter must not be negative")
        let retryAt = now + retryAfter.milliseconds
        return try await write("fail") { db in
            try record?.insert(db)
            guard let message = try QueueMessage.fetchOne(db, key: id), message.state == .leased,
                  attempt == nil || attempt == message.attempts
            else { return .notLeased }
            let reason: String
            if message.attempts >= message.maxAttempts {
                reason = "failed \(message.attempts) of \(message.maxAttempts) attempts: \(error)"
            } else if retryAt - message.enqueuedAt > message.maxEventAgeMs {
                reason = "older than the maximum event age (\(message.maxEventAgeMs) ms) before its next retry: \(error)"
            } else {
                try db.cachedStatement(sql: """
                    UPDATE queue_message SET state = 'ready', visible_at = ?, last_error = ? WHERE id = ?
                    """).execute(arguments: [retryAt, error, id])
                return .retrying(visibleAt: retryAt)
            }
            try db.cachedStatement(sql: "UPDATE queue_message SET last_error = ? WHERE id = ?")
                .execute(arguments: [error, id])
            try Self.deadLetter(db, id, now: now, reason: reason)
            return .deadLettered(reason: reason)
        }
    }

    /// Gives a leased message back without counting the attempt (the consumer could not run
    /// it: throttled, no capacity). Visible again at `now + retryAfter`; the maximum event
    /// age still applies. Returns `false` if it was not leased (by `attempt`).
    @discardableResult
    public func release(id: Int64, attempt: Int? = nil, now: Int64, retryAfter: Duration = .zero) async throws -> Bool {
        try Self.check("release", retryAfter >= .zero, "retryAfter must not be negative")
        let visibleAt = now + retryAfter.milliseconds
        return try await write("release") { db in
            try db.cachedStatement(sql: """
                UPDATE queue_message SET state = 'ready', attempts = max(attempts - 1, 0), visible_at = ?
                WHERE id = ? AND state = 'leased' AND (? IS NULL OR attempts = ?)
                """).execute(arguments: [visibleAt, id, attempt, attempt])
            return db.changesCount > 0
        }
    }

    /// Extends a lease to `now + visibility` (a heartbeat for long handlers). Returns
    /// `false` if it is not leased (by `attempt`).
    @discardableResult
    public func extendLease(id: Int64, attempt: Int? = nil, now: Int64, visibility: Duration) async throws -> Bool {
        try Self.check("extend lease", visibility > .zero, "visibility must be positive")
        let leaseEnd = now + visibility.milliseconds
        return try await write("extend lease") { db in
            try db.cachedStatement(sql: """
                UPDATE queue_message SET visible_at = ?
                WHERE id = ? AND state = 'leased' AND (? IS NULL OR attempts = ?)
                """).execute(arguments: [leaseEnd, id, attempt, attempt])
            return db.changesCount > 0
        }
    }

    /// One message by id, in any state.
    public func message(id: Int64) async throws -> QueueMessage? {
        try await read("message") { db in try QueueMessage.fetchOne(db, key: id) }
    }

    /// The messages of `queue` not yet handled (ready or leased), oldest first, at most `limit`.
    public func pending(queue: String, limit: Int = 1000) async throws -> [QueueMessage] {
        try Self.check("pending", limit > 0, "limit must be positive, got \(limit)")
        typealias Columns = QueueMessage.CodingKeys
        return try await read("pending") { db in
            try QueueMessage.filter(Columns.queue == queue && Columns.state != QueueMessage.State.dead.rawValue)
                .order(Columns.id).limit(limit).fetchAll(db)
        }
    }

    /// Dead letters of `queue` (of every queue when `nil`), oldest first, at most `limit`.
    public func deadLetters(queue: String? = nil, limit: Int = 1000) async throws -> [QueueMessage] {
        try Self.check("dead letters", limit > 0, "limit must be positive, got \(limit)")
        typealias Columns = QueueMessage.CodingKeys
        return try await read("dead letters") { db in
            var request = QueueMessage.filter(Columns.state == QueueMessage.State.dead.rawValue)
            if let queue { request = request.filter(Columns.queue == queue) }
            return try request.order(Columns.id).limit(limit).fetchAll(db)
        }
    }

    /// Moves dead letters of `queue` (the given ids, or all when `nil`) back into the queue,
    /// deliverable at `now`, with attempts reset and their age counted from `now`.
    /// `lastError` is kept. Returns how many were moved.
    @discardableResult
    public func redrive(queue: String, ids: [Int64]? = nil, now: Int64) async throws -> Int {
        typealias Columns = QueueMessage.CodingKeys
        return try await write("redrive") { db in
            var request = QueueMessage.filter(Columns.queue == queue && Columns.state == QueueMessage.State.dead.rawValue)
            if let ids { request = request.filter(ids.contains(Columns.id)) }
            return try request.updateAll(db, [
                Columns.state.set(to: QueueMessage.State.ready.rawValue),
                Columns.attempts.set(to: 0),
                Columns.visibleAt.set(to: now),
                Columns.enqueuedAt.set(to: now),
                Columns.deadLetteredAt.set(to: nil),
                Columns.deadLetterReason.set(to: nil),
            ])
        }
    }

    /// How many messages of `queue` are visible, in flight, delayed and dead at `now`.
    public func depth(queue: String, now: Int64) async throws -> QueueDepth {
        try await read("depth") { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT
                  coalesce(sum(state != 'dead' AND visible_at <= :now), 0) AS visible,
                  coalesce(sum(state = 'leased' AND visible_at > :now), 0) AS in_flight,
                  coalesce(sum(state = 'ready' AND visible_at > :now), 0) AS delayed,
                  coalesce(sum(state = 'dead'), 0) AS dead
                FROM queue_message WHERE queue = :queue
                """, arguments: ["now": now, "queue": queue])
            else { return QueueDepth() }
            return QueueDepth(visible: row["visible"], inFlight: row["in_flight"],
                              delayed: row["delayed"], deadLetters: row["dead"])
        }
    }

    /// Deletes every message of `queue` (leased ones too), and its dead letters when asked.
    /// Returns how many were deleted.
    @discardableResult
    public func purge(queue: String, includingDeadLetters: Bool = false) async throws -> Int {
        typealias Columns = QueueMessage.CodingKeys
        return try await write("purge") { db in
            var request = QueueMessage.filter(Columns.queue == queue)
            if !includingDeadLetters {
                request = request.filter(Columns.state != QueueMessage.State.dead.rawValue)
            }
            return try request.deleteAll(db)
        }
    }

    // MARK: - Internals

    private static func deadLetter(_ db: Database, _ id: Int64, now: Int64, reason: String) throws {
        try db.cachedStatement(sql: """
            UPDATE queue_message SET state = 'dead', dead_lettered_at = ?, dead_letter_reason = ? WHERE id = ?
            """).execute(arguments: [now, reason, id])
        // Its copy for the dead-letter queue, if it names one: in this same
        // transaction, so a dead letter is never without its forward.
        let policy = RetryPolicy.lambda
        try db.cachedStatement(sql: """
            INSERT INTO queue_message (queue, payload, enqueued_at, attempts, max_attempts, visible_at, max_event_age_ms, state)
            SELECT dead_letter_queue, payload, ?, 0, ?, ?, ?, 'ready' FROM queue_message
            WHERE id = ? AND dead_letter_queue IS NOT NULL
            """).execute(arguments: [now, policy.maxAttempts, now, policy.maxEventAge.milliseconds, id])
    }

    static func check(_ operation: String, _ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw StoreError.invalid(operation, message()) }
    }
}
