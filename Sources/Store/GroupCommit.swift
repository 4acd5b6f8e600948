import GRDB
import Synchronization

/// Group commit for ledger inserts: calls that arrive while a commit is running are
/// written together in the next transaction, so concurrent `record(_:)` calls cost one
/// transaction per batch instead of one each, and each call still returns only after
/// its own rows are committed.
///
/// The first caller with no flush under way schedules one on the writer's queue; the
/// flush drains the pending calls until none is left.
///
/// Ledger rows are metering, not accepted input: they are committed with
/// `synchronous = NORMAL` (durable when the process dies, not always when the
/// machine loses power) even in a `.full` store, whose other writes — the
/// event queue — keep `FULL`. A later `FULL` commit syncs the ledger rows too. Not cancellable: rows handed over
/// are written even if the caller's task is cancelled meanwhile.
final class LedgerGroupCommit: Sendable {
    private typealias Waiter = CheckedContinuation<Void, any Error>
    private struct Call {
        var records: [InvocationRecord]
        var waiter: Waiter
    }
    private struct State {
        var calls: [Call] = []
        var flushing = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// Rows per transaction (a single larger call is still written whole), so that other
    /// writes (leases) wait at most one batch.
    private let maxBatchRows: Int

    /// The `synchronous` setting to put back after a flush (nil: leave it).
    private let restoreSynchronous: String?

    init(writer: any DatabaseWriter, maxBatchRows: Int = 256, restoreSynchronous: String? = nil) {
        self.writer = writer
        self.maxBatchRows = maxBatchRows
        self.restoreSynchronous = restoreSynchronous
    }

    func record(_ records: [InvocationRecord]) async throws {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let lead = state.withLock { state in
                state.calls.append(Call(records: records, waiter: waiter))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if lead {
                writer.asyncWriteWithoutTransaction { [self] db in flush(db) }
            }
        }
    }

    /// Runs on the writer's queue until no call is pending.
    private func flush(_ db: Database) {
        if let restoreSynchronous {
            try? db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = \(restoreSynchronous)") }
            drain(db)
        } else {
            drain(db)
        }
    }

    private func drain(_ db: Database) {
        while true {
            let batch = state.withLock { state in
                var rows = 0
                var count = 0
                while count < state.calls.count,
                      count == 0 || rows + state.calls[count].records.count <= maxBatchRows {
                    rows += state.calls[count].records.count
                    count += 1
                }
                if count == 0 { state.flushing = false }
                let batch = Array(state.calls.prefix(count))
                state.calls.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            if batch.count > 1, (try? insert(batch.flatMap(\.records), db)) != nil {
                for call in batch { call.waiter.resume() }
                continue
            }
            // One call, or the shared transaction failed: each call alone, so that one
            // call's failure is its own.
            for call in batch {
                do {
                    try insert(call.records, db)
                    call.waiter.resume()
                } catch {
                    call.waiter.resume(throwing: StoreError(
                        .database, operation: "record invocation", message: "the write failed", underlying: error))
                }
            }
        }
    }

    /// One cached statement with plain arguments: the ledger is written once per
    /// invocation, and the Codable record path cost several times more CPU.
    private func insert(_ records: [InvocationRecord], _ db: Database) throws {
        try db.inTransaction {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO invocation (request_id, workload, mode, "trigger", started_at, duration_ms,
                  billed_duration_ms, memory_size_mb, max_memory_used_mb, init_duration_ms, cold, gb_seconds,
                  outcome, error_type, environment_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for record in records {
                try statement.execute(arguments: [
                    record.requestID, record.workload, record.mode.rawValue, record.trigger.rawValue,
                    record.startedAt, record.durationMs, record.billedDurationMs, record.memorySizeMB,
                    record.maxMemoryUsedMB, record.initDurationMs, record.cold, record.gbSeconds,
                    record.outcome.rawValue, record.errorType, record.environmentID,
                ])
            }
            return .commit
        }
    }
}
