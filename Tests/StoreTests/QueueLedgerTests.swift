import Foundation
import Testing
@testable import Store

/// An asynchronous event's completion and its run's ledger row are one
/// transaction: both or neither.
@Suite("Queue settlement with its ledger row")
struct QueueLedgerTests {
    @Test("complete and fail write the run's ledger row with the queue's change")
    func settlementCarriesTheRow() async throws {
        let store = try Store.inMemory()
        let first = try await store.enqueue(queue: "q", payload: Data("a"), now: 0)
        let second = try await store.enqueue(queue: "q", payload: Data("b"), now: 0)
        #expect(try await store.pending(queue: "q").map(\.id) == [first, second])
        let leasedA = try #require(try await store.lease(queue: "q", now: 1, visibility: .seconds(60)))
        let leasedB = try #require(try await store.lease(queue: "q", now: 1, visibility: .seconds(60)))
        #expect(try await store.complete(id: leasedA.id, attempt: leasedA.attempts, record: invocation(1, workload: "w")))
        _ = try await store.fail(id: leasedB.id, attempt: leasedB.attempts, error: "Boom", now: 2, retryAfter: .seconds(1),
                                 record: invocation(2, workload: "w", outcome: .error))
        #expect(try await store.records(workload: "w").map(\.requestID) == ["req-1", "req-2"])
        #expect(try await store.pending(queue: "q").map(\.id) == [second])
    }

    @Test("a settlement that cannot be written leaves neither the row nor the queue's change")
    func atomic() async throws {
        let store = try Store.inMemory()
        _ = try await store.enqueue(queue: "q", payload: Data("a"), now: 0)
        let leased = try #require(try await store.lease(queue: "q", now: 1, visibility: .seconds(60)))
        // A row the ledger refuses (SQLite stores NaN as NULL: NOT NULL fails) fails the whole transaction.
        var bad = invocation(1, workload: "w")
        bad.durationMs = .nan
        await #expect(throws: (any Error).self) {
            try await store.complete(id: leased.id, attempt: leased.attempts, record: bad)
        }
        #expect(try await store.records(workload: "w").isEmpty)
        #expect(try await store.pending(queue: "q").map(\.id) == [leased.id])
    }
}
