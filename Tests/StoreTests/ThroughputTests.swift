import Foundation
import Testing
@testable import Store

/// Not a benchmark with a peer, only a figure to catch regressions by eye: prints the
/// rates on a file database in a temp dir (the filesystem and its fsync cost matter).
@Suite("Throughput (printed)", .serialized)
struct ThroughputTests {
    @Test("ledger inserts and enqueue+lease+complete per second, with full and normal durability",
          arguments: [Store.Durability.full, .normal])
    func throughput(durability: Store.Durability) async throws {
        try await withFileStore(durability: durability) { store, _ in
            let n = 2_000
            let clock = ContinuousClock()

            let single = try await clock.measure {
                for i in 0..<n { try await store.record(invocation(i)) }
            }
            let concurrent = try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for t in 0..<8 {
                        group.addTask {
                            for i in 0..<(n / 8) { try await store.record(invocation(100_000 * (t + 1) + i)) }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let batched = try await clock.measure {
                for b in 0..<(n / 100) {
                    try await store.record(contentsOf: (0..<100).map { invocation(1_000_000 + b * 100 + $0) })
                }
            }
            let payload = Data(repeating: 7, count: 256)
            let queue = try await clock.measure {
                for i in 0..<n {
                    _ = try await store.enqueue(queue: "bench", payload: payload, now: Int64(i))
                    let m = try #require(try await store.lease(queue: "bench", now: Int64(i), visibility: .seconds(30)))
                    _ = try await store.complete(id: m.id, attempt: m.attempts)
                }
            }
            let summary = try await clock.measure { _ = try await store.summary(workload: "thumb") }

            func rate(_ d: Duration) -> Int {
                let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
                return Int(Double(n) / seconds)
            }
            print("""
                store throughput (\(durability), \(n) each): \
                record \(rate(single))/s sequential, \(rate(concurrent))/s from 8 tasks, \
                \(rate(batched))/s in batches of 100; \
                enqueue+lease+complete \(rate(queue))/s sequential; \
                summary over \(n * 3) rows \(summary)
                """)
            #expect(try await store.summary(workload: "thumb").count == n * 3)
        }
    }
}
