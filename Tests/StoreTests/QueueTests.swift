import Foundation
import Testing
@testable import Store

/// Seconds-scale policy so tests read like the controller's tests will.
private let quick = RetryPolicy(maxAttempts: 3, maxEventAge: .seconds(60), backoff: [.seconds(1), .seconds(2)])

@Suite("Async event queue")
struct QueueTests {
    @Test("lease hands out messages FIFO by visible time then id, one queue at a time")
    func fifo() async throws {
        let store = try Store.inMemory()
        let a = try await store.enqueue(queue: "orders", payload: Data("a"), now: 1000)
        let b = try await store.enqueue(queue: "orders", payload: Data("b"), now: 1000)
        let delayed = try await store.enqueue(queue: "orders", payload: Data("c"), now: 900, delay: .milliseconds(150))
        let early = try await store.enqueue(queue: "orders", payload: Data("d"), now: 999)
        _ = try await store.enqueue(queue: "other", payload: Data("x"), now: 1)

        var order: [Int64] = []
        while let m = try await store.lease(queue: "orders", now: 1049, visibility: .seconds(30)) {
            order.append(m.id)
            #expect(m.state == .leased)
            #expect(m.attempts == 1)
            #expect(m.visibleAt == 31_049)
        }
        #expect(order == [early, a, b])
        let c = try await store.lease(queue: "orders", now: 1050, visibility: .seconds(1))
        #expect(c?.id == delayed)
        #expect(c?.payload == Data("c"))
    }

    @Test("complete deletes the message; a lease that expires delivers it again")
    func visibilityTimeout() async throws {
        let store = try Store.inMemory()
        let id = try await store.enqueue(queue: "q", payload: Data("p"), now: 0, policy: quick)

        let first = try #require(try await store.lease(queue: "q", now: 0, visibility: .seconds(10)))
        #expect(first.id == id)
        #expect(try await store.lease(queue: "q", now: 9_999, visibility: .seconds(10)) == nil)
        #expect(try await store.depth(queue: "q", now: 5_000) == QueueDepth(inFlight: 1))

        // The consumer died: at the lease's end the message is visible and delivered again.
        #expect(try await store.depth(queue: "q", now: 10_000) == QueueDepth(visible: 1))
        let second = try #require(try await store.lease(queue: "q", now: 10_000, visibility: .seconds(10)))
        #expect(second.id == id)
        #expect(second.attempts == 2)

        // The first consumer's late answer does not touch the second delivery.
        #expect(try await store.complete(id: id, attempt: first.attempts) == false)
        #expect(try await store.fail(id: id, attempt: first.attempts, error: "late", now: 10_001,
                                     retryAfter: .zero) == .notLeased)
        #expect(try await store.complete(id: id, attempt: second.attempts))
        #expect(try await store.message(id: id) == nil)
        #expect(try await store.complete(id: id) == false)
        #expect(try await store.depth(queue: "q", now: 10_000) == QueueDepth())
    }

    @Test("failures are retried after the back-off, then dead-lettered when attempts run out")
    func retriesThenDeadLetter() async throws {
        let store = try Store.inMemory()
        let id = try await store.enqueue(queue: "q", payload: Data("p"), now: 0, policy: quick)
        var now: Int64 = 0
        for attempt in 1...2 {
            let m = try #require(try await store.lease(queue: "q", now: now, visibility: .seconds(5)))
            #expect(m.attempts == attempt)
            let delay = quick.retryDelay(afterAttempt: m.attempts)
            let outcome = try await store.fail(id: id, attempt: m.attempts, error: "boom \(attempt)",
                                               now: now + 100, retryAfter: delay)
            #expect(outcome == .retrying(visibleAt: now + 100 + delay.milliseconds))
            now += 100
            #expect(try await store.lease(queue: "q", now: now + delay.milliseconds - 1, visibility: .seconds(5)) == nil)
            #expect(try await store.depth(queue: "q", now: now) == QueueDepth(delayed: 1))
            now += delay.milliseconds
        }
        let last = try #require(try await store.lease(queue: "q", now: now, visibility: .seconds(5)))
        #expect(last.attempts == 3)
        #expect(last.lastError == "boom 2")
        let outcome = try await store.fail(id: id, error: "boom 3", now: now + 1, retryAfter: .seconds(1))
        #expect(outcome == .deadLettered(reason: "failed 3 of 3 attempts: boom 3"))

        #expect(try await store.lease(queue: "q", now: now + 1_000_000, visibility: .seconds(5)) == nil)
        let dead = try await store.deadLetters(queue: "q")
        #expect(dead.map(\.id) == [id])
        #expect(dead[0].state == .dead)
        #expect(dead[0].lastError == "boom 3")
        #expect(dead[0].deadLetteredAt == now + 1)
        #expect(try await store.depth(queue: "q", now: now) == QueueDepth(deadLetters: 1))
    }

    @Test("a consumer that dies on the last attempt sends the message to the dead letters")
    func expiredLastLease() async throws {
        let store = try Store.inMemory()
        let id = try await store.enqueue(queue: "q", payload: Data("poison"), now: 0,
                                         policy: RetryPolicy(maxAttempts: 2, maxEventAge: .seconds(60)))
        _ = try await store.lease(queue: "q", now: 0, visibility: .seconds(1))
        _ = try await store.lease(queue: "q", now: 1_000, visibility: .seconds(1))
        #expect(try await store.lease(queue: "q", now: 2_000, visibility: .seconds(1)) == nil)
        let dead = try await store.deadLetters(queue: "q")
        #expect(dead.map(\.id) == [id])
        #expect(dead[0].deadLetterReason == "the lease of the last of 2 attempts expired")
    }

    @Test("every way of dead-lettering copies the message to its dead-letter queue in the same write")
    func deadLetterQueue() async throws {
        let store = try Store.inMemory()
        let policy = RetryPolicy(maxAttempts: 1, maxEventAge: .seconds(10))
        // Failed on its last attempt.
        let failed = try await store.enqueue(queue: "q", payload: Data("failed"), now: 0, policy: policy,
                                             deadLetterQueue: "dlq")
        _ = try await store.lease(queue: "q", now: 0, visibility: .seconds(1))
        _ = try await store.fail(id: failed, error: "boom", now: 100, retryAfter: .seconds(1))
        // Its consumer died on the last attempt.
        _ = try await store.enqueue(queue: "q", payload: Data("expired"), now: 200, policy: policy, deadLetterQueue: "dlq")
        _ = try await store.lease(queue: "q", now: 200, visibility: .seconds(1))
        // Too old before anyone leased it.
        _ = try await store.enqueue(queue: "q", payload: Data("old"), now: 300, policy: policy, deadLetterQueue: "dlq")
        // One without a dead-letter queue stays only a dead letter.
        _ = try await store.enqueue(queue: "q", payload: Data("plain"), now: 300, policy: policy)
        #expect(try await store.lease(queue: "q", now: 20_000, visibility: .seconds(1)) == nil)
        #expect(try await store.deadLetters(queue: "q").count == 4)
        var forwarded: [String] = []
        while let message = try await store.lease(queue: "dlq", now: 20_000, visibility: .seconds(1)) {
            forwarded.append(String(decoding: message.payload, as: UTF8.self))
            try await store.complete(id: message.id)
        }
        #expect(forwarded.sorted() == ["expired", "failed", "old"])
    }

    @Test("an event older than its maximum age is dead-lettered, not retried or delivered")
    func maxEventAge() async throws {
        let store = try Store.inMemory()
        let policy = RetryPolicy(maxAttempts: 10, maxEventAge: .seconds(10))
        // Retrying would take it past 10 s: dead now.
        let a = try await store.enqueue(queue: "q", payload: Data("a"), now: 0, policy: policy)
        _ = try await store.lease(queue: "q", now: 8_000, visibility: .seconds(1))
        let outcome = try await store.fail(id: a, error: "slow", now: 8_500, retryAfter: .seconds(2))
        guard case .deadLettered(let reason) = outcome else {
            Issue.record("expected a dead letter, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("older than the maximum event age"))

        // Never delivered in time (no consumer): dead when a consumer finally comes.
        let b = try await store.enqueue(queue: "q", payload: Data("b"), now: 0, policy: policy)
        let c = try await store.enqueue(queue: "q", payload: Data("c"), now: 5_000, policy: policy)
        let leased = try await store.lease(queue: "q", now: 10_001, visibility: .seconds(1))
        #expect(leased?.id == c)
        #expect(try await store.deadLetters(queue: "q").map(\.id) == [a, b])
    }

    @Test("redrive puts dead letters back with attempts reset and a fresh age")
    func redrive() async throws {
        let store = try Store.inMemory()
        let once = RetryPolicy(maxAttempts: 1, maxEventAge: .seconds(60))
        var ids: [Int64] = []
        for n in 0..<3 {
            let id = try await store.enqueue(queue: "q", payload: Data("\(n)"), now: 0, policy: once)
            _ = try await store.lease(queue: "q", now: 0, visibility: .seconds(1))
            #expect(try await store.fail(id: id, error: "e\(n)", now: 0, retryAfter: .zero)
                    == .deadLettered(reason: "failed 1 of 1 attempts: e\(n)"))
            ids.append(id)
        }
        _ = try await store.enqueue(queue: "other", payload: Data("x"), now: 0)

        #expect(try await store.redrive(queue: "q", ids: [ids[1]], now: 500_000) == 1)
        #expect(try await store.deadLetters(queue: "q").map(\.id) == [ids[0], ids[2]])
        let back = try #require(try await store.lease(queue: "q", now: 500_000, visibility: .seconds(1)))
        #expect(back.id == ids[1])
        #expect(back.attempts == 1)
        #expect(back.enqueuedAt == 500_000)
        #expect(back.lastError == "e1")
        #expect(back.deadLetterReason == nil)

        #expect(try await store.redrive(queue: "q", now: 600_000) == 2)
        #expect(try await store.deadLetters().isEmpty)
        #expect(try await store.depth(queue: "q", now: 600_000) == QueueDepth(visible: 3))
    }

    @Test("release gives a message back without counting the attempt; extendLease keeps it hidden")
    func releaseAndExtend() async throws {
        let store = try Store.inMemory()
        let id = try await store.enqueue(queue: "q", payload: Data("p"), now: 0, policy: quick)
        let m = try #require(try await store.lease(queue: "q", now: 0, visibility: .seconds(1)))
        #expect(try await store.extendLease(id: id, attempt: m.attempts, now: 900, visibility: .seconds(1)))
        #expect(try await store.lease(queue: "q", now: 1_500, visibility: .seconds(1)) == nil)
        #expect(try await store.release(id: id, attempt: m.attempts, now: 1_500, retryAfter: .milliseconds(500)))
        #expect(try await store.release(id: id, now: 1_500) == false)
        let again = try #require(try await store.lease(queue: "q", now: 2_000, visibility: .seconds(1)))
        #expect(again.attempts == 1)
    }

    @Test("purge empties a queue, keeping its dead letters unless asked")
    func purge() async throws {
        let store = try Store.inMemory()
        let once = RetryPolicy(maxAttempts: 1)
        let dead = try await store.enqueue(queue: "q", payload: Data("d"), now: 0, policy: once)
        _ = try await store.lease(queue: "q", now: 0, visibility: .seconds(1))
        _ = try await store.fail(id: dead, error: "e", now: 0, retryAfter: .zero)
        for n in 0..<3 { _ = try await store.enqueue(queue: "q", payload: Data("\(n)"), now: 0) }
        _ = try await store.lease(queue: "q", now: 0, visibility: .seconds(1))
        _ = try await store.enqueue(queue: "other", payload: Data("x"), now: 0)

        #expect(try await store.purge(queue: "q") == 3)
        #expect(try await store.depth(queue: "q", now: 0) == QueueDepth(deadLetters: 1))
        #expect(try await store.purge(queue: "q", includingDeadLetters: true) == 1)
        #expect(try await store.depth(queue: "other", now: 0) == QueueDepth(visible: 1))
    }

    @Test("invalid arguments are refused with the operation named")
    func invalidArguments() async throws {
        let store = try Store.inMemory()
        let error = await #expect(throws: StoreError.self) {
            try await store.enqueue(queue: "q", payload: Data(), now: 0, policy: RetryPolicy(maxAttempts: 0))
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.operation == "enqueue")
        await #expect(throws: StoreError.self) { try await store.lease(queue: "q", now: 0, visibility: .zero) }
    }

    @Test("the retry policy's back-off repeats its last step")
    func backoff() {
        #expect(RetryPolicy.lambda.retryDelay(afterAttempt: 1) == .seconds(60))
        #expect(RetryPolicy.lambda.retryDelay(afterAttempt: 2) == .seconds(120))
        #expect(RetryPolicy.lambda.retryDelay(afterAttempt: 5) == .seconds(120))
        #expect(RetryPolicy.lambda.maxAttempts == 3)
        #expect(RetryPolicy.lambda.maxEventAge == .seconds(21_600))
    }

    @Test("8 concurrent consumers never get the same message; each is completed exactly once")
    func concurrentConsumers() async throws {
        try await withFileStore { store, _ in
            let total = 200
            var ids: [Int64] = []
            for n in 0..<total { ids.append(try await store.enqueue(queue: "q", payload: Data("\(n)"), now: 0)) }

            let completed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [Int64] = []
                        while let m = try await store.lease(queue: "q", now: 1, visibility: .seconds(600)) {
                            #expect(try await store.complete(id: m.id, attempt: m.attempts))
                            mine.append(m.id)
                        }
                        return mine
                    }
                }
                var all: [Int64] = []
                for try await mine in group { all += mine }
                return all
            }
            #expect(completed.count == total)
            #expect(Set(completed) == Set(ids))
            #expect(Set(completed).count == total)
            #expect(try await store.depth(queue: "q", now: 1) == QueueDepth())
        }
    }
}
