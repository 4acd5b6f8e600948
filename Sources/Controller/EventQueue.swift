import Foundation
import FunctionMode
import Logging
import NIOCore
import ServiceLifecycle
import Store
import Synchronization

/// Lambda's asynchronous invocation (`X-Amz-Invocation-Type: Event`): events are
/// written to the SQLite queue before the caller gets its 202 — nothing accepted
/// is lost, also across a controller restart — then consumed by workers that
/// invoke the function, retry it on error after a back-off (two retries, like
/// Lambda), and move it to the dead letters (and the workload's `dead_letter`
/// queue, if it names one) when it keeps failing or grows too old.
final class EventQueue: Service, Sendable {
    struct Function: Sendable {
        var name: String
        var policy: RetryPolicy
        var deadLetterQueue: String?
        var workers: Int
        var timeout: Duration
    }

    let store: Store
    let invoke: @Sendable (String, ByteBuffer, InvocationID) async -> InvocationResult
    let functions: [String: Function]
    private let doorbell = QueueDoorbell()
    private let logger: Logger

    init(
        store: Store, functions: [Function], logger: Logger,
        invoke: @escaping @Sendable (String, ByteBuffer, InvocationID) async -> InvocationResult
    ) {
        self.store = store
        self.invoke = invoke
        self.functions = Dictionary(functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
    }

    static func queueName(_ function: String) -> String { "lambda-async:\(function)" }

    /// Accepts an event durably; returns its request id.
    func enqueue(_ name: String, payload: [UInt8]) async throws -> InvocationID {
        guard let function = functions[name] else { throw ControllerError(.unknownFunction, "no function named \(name)") }
        let requestID = InvocationID(Identifiers.requestID())
        try await store.enqueue(
            queue: Self.queueName(name), payload: Self.envelope(requestID, payload), now: Self.now(), policy: function.policy,
            deadLetterQueue: function.deadLetterQueue)
        doorbell.ring()
        return requestID
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for function in self.functions.values {
                    for _ in 0..<max(1, function.workers) {
                        group.addTask { await self.work(function) }
                    }
                }
            }
        }
        // With no function to feed it has nothing to do, and idles: a service
        // that ends out of turn would end the controller.
        try? await gracefulShutdown()
    }

    /// Leases and runs events one at a time; settling each (waiting for its
    /// report, then one transaction) overlaps with the next event's run.
    private func work(_ function: Function) async {
        await withDiscardingTaskGroup { settling in
            await lease(function, settling: &settling)
        }
    }

    private func lease(_ function: Function, settling: inout DiscardingTaskGroup) async {
        let queue = Self.queueName(function.name)
        while !Task.isCancelled {
            let message: QueueMessage?
            do {
                message = try await store.lease(queue: queue, now: Self.now(), visibility: function.timeout + .seconds(60))
            } catch {
                if Task.isCancelled || error is CancellationError { return }
                logger.error("could not lease an event", metadata: ["queue": "\(queue)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard let message else {
                await doorbell.wait(upTo: .milliseconds(500))
                continue
            }
            let (requestID, payload) = Self.open(message.payload)
            let result = await invoke(function.name, ByteBuffer(bytes: payload), requestID)
            settling.addTask { await self.settle(message, function, result) }
        }
    }

    /// Records how an event's run ended: the queue's change and the run's
    /// ledger row in one transaction, so that a crash cannot leave an event
    /// handled without its row (its report arrives once its log has closed).
    private func settle(_ message: QueueMessage, _ function: Function, _ result: InvocationResult) async {
        let requestID = result.requestID
        let record = result.report.map { InvocationRecord(report: $0, trigger: .event) }
        do {
            switch result.outcome {
            case .response:
                try await store.complete(id: message.id, attempt: message.attempts, record: record)
            case .rejected, .failed(.shuttingDown):
                // Throttled (or tandem is stopping): Lambda keeps the event and
                // tries again later without counting an attempt.
                try await store.release(id: message.id, attempt: message.attempts, now: Self.now(), retryAfter: .seconds(1))
            default:
                let error = result.errorDocument?.errorType ?? "Unhandled"
                let outcome = try await store.fail(
                    id: message.id, attempt: message.attempts, error: error, now: Self.now(),
                    retryAfter: function.policy.retryDelay(afterAttempt: message.attempts), record: record)
                // A dead letter's copy for the workload's dead_letter queue was
                // written with it, in the same transaction.
                if case .deadLettered(let reason) = outcome {
                    logger.warning("event dead-lettered", metadata: [
                        "function": "\(function.name)", "request": "\(requestID)", "reason": "\(reason)"])
                }
            }
        } catch {
            logger.error("could not settle an event", metadata: ["request": "\(requestID)", "error": "\(error)"])
        }
    }

    /// The stored form of an event: its 36-character request id, then the payload.
    static func envelope(_ requestID: InvocationID, _ payload: [UInt8]) -> Data {
        Data(requestID.rawValue.utf8) + Data(payload)
    }

    static func open(_ data: Data) -> (InvocationID, [UInt8]) {
        let bytes = Array(data)
        guard bytes.count >= 36, let id = String(bytes: bytes[0..<36], encoding: .utf8), UUID(uuidString: id) != nil else {
            return (InvocationID(Identifiers.requestID()), bytes)
        }
        return (InvocationID(id), Array(bytes[36...]))
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Wakes idle workers when an event arrives.
final class QueueDoorbell: Sendable {
    private let waiters = Mutex<[UUID: CheckedContinuation<Void, Never>]>([:])

    func ring() {
        let all = waiters.withLock { waiters in
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in all { waiter.resume() }
    }

    /// Returns after a ring or after `duration`, whichever is first (also when
    /// the task is cancelled: at most `duration` later).
    func wait(upTo duration: Duration) async {
        let id = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiters.withLock { $0[id] = continuation }
            Task {
                try? await Task.sleep(for: duration)
                self.waiters.withLock { $0.removeValue(forKey: id) }?.resume()
            }
        }
    }
}
