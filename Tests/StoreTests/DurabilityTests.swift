import Foundation
import Testing
@testable import Store

@Suite("File database")
struct DurabilityTests {
    @Test("open creates the folder and a WAL database; migrations apply once and are idempotent on reopen")
    func migrations() async throws {
        try await withTemporaryDirectory { dir in
            let path = Store.defaultPath(projectDirectory: dir)
            #expect(path.hasSuffix("/.tandem/tandem.sqlite"))
            let names = ["v1 invocation ledger", "v1 event queue", "v1 placement history",
                         "v2 ledger without the request id index", "v3 queue messages name their dead-letter queue",
                         "v4 task runs"]

            let first = try Store.open(path: path)
            #expect(try await first.appliedMigrations() == names)
            let mode = try await first.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            try first.close()

            let second = try Store.open(path: path)
            #expect(try await second.appliedMigrations() == names)
            try second.close()
        }
    }

    @Test("ledger rows commit with synchronous NORMAL; the writer is back to FULL for the queue after each batch")
    func ledgerSynchronous() async throws {
        try await withTemporaryDirectory { dir in
            let store = try Store.open(path: Store.defaultPath(projectDirectory: dir))
            defer { try? store.close() }
            func synchronous() async throws -> Int? {
                try await store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            }
            let initial = try await synchronous()
            #expect(initial == 2, "FULL, found \(String(describing: initial))")
            try await store.record(contentsOf: (1...50).map { invocation($0) })
            #expect(try await synchronous() == 2, "FULL again after the ledger batch")
            _ = try await store.enqueue(queue: "q", payload: Data("kept"), now: 0)
            #expect(try await store.depth(queue: "q", now: 0).visible == 1)

            let normal = try Store.open(path: Store.defaultPath(projectDirectory: dir + "/n"), durability: .normal)
            defer { try? normal.close() }
            try await normal.record(invocation(1))
            #expect(try await normal.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
        }
    }

    @Test("accepted messages, leases and ledger rows survive close and reopen; an unfinished lease is delivered again")
    func reopen() async throws {
        try await withTemporaryDirectory { dir in
            let path = Store.defaultPath(projectDirectory: dir)
            let store = try Store.open(path: path)
            let kept = try await store.enqueue(queue: "q", payload: Data("kept"), now: 0)
            let crashed = try await store.enqueue(queue: "q", payload: Data("crashed"), now: 0)
            let leased = try await store.lease(queue: "q", now: 0, visibility: .seconds(30))
            #expect(leased?.id == kept)
            try await store.record(invocation(1))
            try store.close()
            // Closed: later calls fail with a StoreError.
            await #expect(throws: StoreError.self) { try await store.depth(queue: "q", now: 0) }
            await #expect(throws: StoreError.self) { try await store.record(invocation(2)) }
            await #expect(throws: StoreError.self) {
                try await store.enqueue(queue: "q", payload: Data("late"), now: 0)
            }

            let reopened = try Store.open(path: path)
            defer { try? reopened.close() }
            #expect(try await reopened.depth(queue: "q", now: 1) == QueueDepth(visible: 1, inFlight: 1))
            #expect(try await reopened.lease(queue: "q", now: 1, visibility: .seconds(30))?.id == crashed)
            let again = try await reopened.lease(queue: "q", now: 30_000, visibility: .seconds(30))
            #expect(again?.id == kept)
            #expect(again?.attempts == 2)
            #expect(again?.payload == Data("kept"))
            #expect(try await reopened.records(workload: "thumb") == [invocation(1)])
        }
    }
}
