import Foundation
import Testing
@testable import Store

@Suite("Invocation ledger")
struct LedgerTests {
    @Test("a record reads back with every field, enums as text and GB-seconds computed")
    func roundTrip() async throws {
        let store = try Store.inMemory()
        let record = InvocationRecord(
            requestID: "8f1c", workload: "thumb", mode: .function, trigger: .http,
            startedAt: 1_700_000_000_123, durationMs: 12.3, memorySizeMB: 512, maxMemoryUsedMB: 71,
            initDurationMs: 230.25, cold: true, outcome: .initError, errorType: "Runtime.ExitError",
            environmentID: "env-3")
        try await store.record(record)

        let back = try await store.records(workload: "thumb")
        #expect(back == [record])
        #expect(record.billedDurationMs == 13)
        #expect(abs(record.gbSeconds - 0.0065) < 1e-12)
        let outcome = try await store.writer.read { db in
            try String.fetchOne(db, sql: "SELECT outcome || ',' || mode || ',' || \"trigger\" FROM invocation")
        }
        #expect(outcome == "init_error,function,http")
    }

    @Test("billed duration rounds up to the next millisecond", arguments: [
        (0.0, 0), (0.2, 1), (1.0, 1), (1.0001, 2), (99.5, 100), (Double.nan, 0),
    ] as [(Double, Int64)])
    func billing(duration: Double, billed: Int64) {
        #expect(InvocationRecord.billedMilliseconds(duration) == billed)
    }

    @Test("records filters by workload and start time, oldest first, and honours the limit")
    func recordsQuery() async throws {
        let store = try Store.inMemory()
        try await store.record(contentsOf: (0..<10).map { invocation($0, startedAt: Int64(100 - $0)) })
        try await store.record(invocation(99, workload: "other"))

        let all = try await store.records(workload: "thumb")
        #expect(all.map(\.startedAt) == Array(91...100).map(Int64.init))
        let recent = try await store.records(workload: "thumb", since: 95, limit: 3)
        #expect(recent.map(\.startedAt) == [95, 96, 97])
        #expect(try await store.records(workload: "nobody").isEmpty)
        await #expect(throws: StoreError.self) { try await store.records(workload: "thumb", limit: 0) }
    }

    @Test("summary counts, totals and nearest-rank percentiles on known data")
    func summary() async throws {
        let store = try Store.inMemory()
        // Durations 1...100 ms at 1024 MB; every 10th cold, every 25th an error.
        try await store.record(contentsOf: (1...100).map { n in
            invocation(n, durationMs: Double(n), cold: n % 10 == 0, outcome: n % 25 == 0 ? .error : .success)
        })
        // Noise that must not count: another mode, another workload, too early.
        try await store.record(invocation(500, mode: .service, durationMs: 9999))
        try await store.record(invocation(501, workload: "api", durationMs: 9999))

        let s = try await store.summary(workload: "thumb", mode: .function)
        #expect(s.count == 100)
        #expect(s.errors == 4)
        #expect(s.outcomes == [.success: 96, .error: 4])
        #expect(s.coldStarts == 10)
        #expect(s.p50DurationMs == 50)
        #expect(s.p90DurationMs == 90)
        #expect(s.p99DurationMs == 99)
        #expect(s.totalBilledMs == 5050)
        #expect(abs(s.totalGBSeconds - 5.05) < 1e-9)
        #expect(s.percentileSampleSize == 100)

        let everyMode = try await store.summary(workload: "thumb")
        #expect(everyMode.count == 101)
        #expect(everyMode.p99DurationMs == 100)

        let late = try await store.summary(workload: "thumb", mode: .function, since: 1_000_091)
        #expect(late.count == 10)
        #expect(late.p50DurationMs == 95)

        // Percentiles over the most recent 10 only; counts still over all.
        let sampled = try await store.summary(workload: "thumb", mode: .function, percentileSampleLimit: 10)
        #expect(sampled.count == 100)
        #expect(sampled.percentileSampleSize == 10)
        #expect(sampled.p50DurationMs == 95)

        let none = try await store.summary(workload: "nobody")
        #expect(none == InvocationSummary())
    }

    @Test("nearest-rank percentile", arguments: [
        (0.5, [], nil), (0.5, [7], 7), (0.99, [7], 7), (0.0, [1, 2, 3], 1),
        (0.5, [1, 2, 3, 4], 2), (0.75, [1, 2, 3, 4], 3), (1.0, [1, 2, 3, 4], 4),
    ] as [(Double, [Double], Double?)])
    func percentile(p: Double, values: [Double], expected: Double?) {
        #expect(InvocationSummary.percentile(p, ofSorted: values) == expected)
    }

    @Test("prune deletes invocations older than a cut-off")
    func prune() async throws {
        let store = try Store.inMemory()
        try await store.record(contentsOf: (0..<10).map { invocation($0, startedAt: Int64($0)) })
        #expect(try await store.pruneInvocations(before: 4) == 4)
        #expect(try await store.records(workload: "thumb").map(\.startedAt).first == 4)
    }
}

@Suite("Placement history")
struct PlacementHistoryTests {
    @Test("placements read back oldest first, per workload")
    func history() async throws {
        let store = try Store.inMemory()
        try await store.recordPlacement(PlacementRecord(
            workload: "thumb", at: 10, fromMode: nil, toMode: .function, reason: "bursty, 5 req/min"))
        try await store.recordPlacement(PlacementRecord(
            workload: "api", at: 11, fromMode: nil, toMode: .service, reason: "steady"))
        try await store.recordPlacement(PlacementRecord(
            workload: "thumb", at: 20, fromMode: .function, toMode: .service, reason: "300 req/s sustained"))

        let thumb = try await store.placements(workload: "thumb")
        #expect(thumb.map(\.toMode) == [.function, .service])
        #expect(thumb[0].fromMode == nil)
        #expect(thumb[1].fromMode == .function)
        #expect(thumb[1].reason == "300 req/s sustained")
        #expect(try await store.placements(workload: "thumb", limit: 1).map(\.at) == [20])
    }
}

@Suite("Ledger group commit")
struct GroupCommitTests {
    @Test("concurrent record calls each return after their own row is committed, none lost")
    func concurrentRecords() async throws {
        try await withFileStore { store, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<16 {
                    group.addTask {
                        for i in 0..<50 {
                            let record = invocation(t * 1000 + i, startedAt: Int64(t * 1000 + i))
                            try await store.record(record)
                            // Committed before record returned: a fresh snapshot sees it.
                            let seen = try await store.records(workload: "thumb", since: record.startedAt, limit: 1)
                            #expect(seen.first?.requestID == record.requestID)
                        }
                        try await store.record(contentsOf: (0..<30).map { invocation(t * 1000 + 500 + $0) })
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.summary(workload: "thumb").count == 16 * 80)
            let ids = Set(try await store.records(workload: "thumb", limit: 10_000).map(\.requestID))
            #expect(ids.count == 16 * 80)
        }
    }
}
