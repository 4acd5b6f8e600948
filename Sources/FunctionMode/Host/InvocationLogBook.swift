import Foundation
import Synchronization

/// Writes each invocation's log the way Lambda does — `START`, the function's
/// own output, `END`, `REPORT` with its figures — from the container's output
/// stream and memory samples, and keeps the finished log for `Tail` callers.
///
/// The function's output reaches the host through the engine's log stream a
/// little after the runtime writes it, so an invocation's log stays open for a
/// short settle time after its answer (or until the environment's next
/// invocation begins, whichever is first) before END and REPORT are written.
///
/// Lines go to the observer in order, in batches: every line joins an outbox
/// under the same lock, and one sweeper task hands the outbox on every settle
/// time while there is anything to hand on. The invocation path itself never
/// writes a file.
final class InvocationLogBook: Sendable {
    struct OpenLog: Sendable {
        /// Which delivery this is: an asynchronous event keeps its request id
        /// across retries, so one id can have one attempt's log closing while
        /// the next attempt's begins.
        let serial: UInt64
        let function: String
        let environment: EnvironmentID
        let startedAt: Date
        let memorySizeMiB: Int
        let initDuration: Duration?
        var lines: [String]
        var bytes = 0
        var answered: (duration: Duration, outcome: InvocationReport.Outcome, errorType: String?, note: String?)?
        var waiters: [CheckedContinuation<String?, Never>] = []
    }

    struct State: Sendable {
        var open: [InvocationID: OpenLog] = [:]
        var owner: [EnvironmentID: InvocationID] = [:]
        var maxMemory: [EnvironmentID: Int64] = [:]
        var partial: [EnvironmentID: String] = [:]
        /// Finished logs kept for late `Tail` readers, newest last.
        var finished: [InvocationID: [String]] = [:]
        var finishedOrder: [InvocationID] = []
        /// Answered invocations whose log closes after the settle time.
        var due: [Due] = []
        var sweeping = false
        var nextSerial: UInt64 = 0
        /// Lines and reports not yet handed to the observer, in order.
        var outbox = Outbox()
    }

    /// A claimed log's report on its way to the caller who claimed it.
    struct Claimant {
        let waiter: CheckedContinuation<InvocationReport?, Never>?
        let report: InvocationReport?
    }

    /// A claimed report: kept for its caller once the log closes.
    struct Claim: Sendable {
        var closed = false
        var report: InvocationReport?
        var waiter: CheckedContinuation<InvocationReport?, Never>?
    }

    struct Outbox: Sendable {
        var functions: [String] = []
        var lines: [String: [LogLine]] = [:]
        var reports: [InvocationReport] = []

        var isEmpty: Bool { functions.isEmpty && reports.isEmpty }

        mutating func post(_ function: String, _ new: [String], at time: Date = Date()) {
            guard !new.isEmpty else { return }
            let stamped = new.map { LogLine($0, time: time) }
            if lines[function] == nil {
                functions.append(function)
                lines[function] = stamped
            } else {
                lines[function]?.append(contentsOf: stamped)
            }
        }
    }

    struct Due: Sendable {
        let id: InvocationID
        let serial: UInt64
        let at: ContinuousClock.Instant
        /// How long to wait for a first memory sample (REPORT's Max Memory Used).
        let memoryDeadline: ContinuousClock.Instant
    }

    /// Most bytes of one invocation's log kept in memory (Tail shows the last 4 KB).
    static let keptBytes = 16 * 1024
    private let state = Mutex(State())
    /// Reports a caller takes instead of the observer (``claimReport(_:)``);
    /// locked inside `state`'s lock when both are held.
    private let claims = Mutex<[InvocationID: Claim]>([:])
    private let observer: (any FunctionHostObserver)?
    let settleTime: Duration

    /// How long a log that a caller waits for (`Tail`) stays open after the
    /// answer, when no next invocation closes it first: the engine's log stream
    /// runs behind on a loaded machine.
    let tailSettleTime: Duration

    init(observer: (any FunctionHostObserver)?, settleTime: Duration = .milliseconds(15),
         tailSettleTime: Duration = .milliseconds(100)) {
        self.observer = observer
        self.settleTime = settleTime
        self.tailSettleTime = tailSettleTime
    }

    // MARK: - Inputs

    /// A chunk of an environment's output (stdout or stderr).
    func output(_ env: EnvironmentID, function: String, _ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let startSweeper = state.withLock { state -> Bool in
            var buffer = (state.partial[env] ?? "") + text
            var complete: [String] = []
            while let newline = buffer.firstIndex(of: "\n") {
                complete.append(String(buffer[..<newline]))
                buffer = String(buffer[buffer.index(after: newline)...])
            }
            state.partial[env] = buffer.isEmpty ? nil : buffer
            if let owner = state.owner[env], var log = state.open[owner] {
                for line in complete { Self.keep(line, in: &log) }
                state.open[owner] = log
            }
            state.outbox.post(function, complete)
            return Self.claimSweeper(&state)
        }
        if startSweeper { Task { await self.sweep() } }
    }

    /// The latest memory sample of an environment (peak bytes so far).
    func memory(_ env: EnvironmentID, maxUsageBytes: Int64) {
        state.withLock { state in
            state.maxMemory[env] = max(state.maxMemory[env] ?? 0, maxUsageBytes)
        }
    }

    /// An invocation was handed to an environment: its log begins.
    func delivered(_ id: InvocationID, env: EnvironmentID, function: String, memorySizeMiB: Int, initDuration: Duration?) {
        let start = LambdaLogFormat.start(id)
        let startedAt = Date()
        let (previous, startSweeper) = state.withLock { state -> ([Closed], Bool) in
            // The environment's previous invocation ends here at the latest, and
            // so does an earlier attempt of this one (a retried event's).
            var previous = state.owner[env].flatMap { self.close($0, in: &state) }.map { [$0] } ?? []
            if state.open[id] != nil, let earlier = self.close(id, in: &state) { previous.append(earlier) }
            state.nextSerial += 1
            var log = OpenLog(serial: state.nextSerial, function: function, environment: env, startedAt: startedAt, memorySizeMiB: memorySizeMiB,
                              initDuration: initDuration, lines: [])
            Self.keep(start, in: &log)
            state.open[id] = log
            state.owner[env] = id
            state.outbox.post(function, [start], at: startedAt)
            return (previous, Self.claimSweeper(&state))
        }
        for closed in previous { closed.resumeWaiters() }
        if startSweeper { Task { await self.sweep() } }
    }

    /// The invocation has its outcome; END and REPORT follow after the settle time.
    func answered(_ id: InvocationID, duration: Duration, outcome: InvocationReport.Outcome, errorType: String?, note: String? = nil) {
        let now = ContinuousClock.now
        let startSweeper = state.withLock { state -> Bool in
            guard let serial = state.open[id]?.serial else { return false }
            state.open[id]?.answered = (duration, outcome, errorType, note)
            // REPORT's Max Memory Used comes from the engine's stats stream,
            // which samples about once a second (later on a loaded machine): on
            // a cold start, wait a little for the first sample rather than print none.
            state.due.append(Due(id: id, serial: serial, at: now + settleTime, memoryDeadline: now + .milliseconds(2500)))
            return Self.claimSweeper(&state)
        }
        if startSweeper { Task { await self.sweep() } }
    }

    /// Marks the sweeper running; true when the caller must start it.
    private static func claimSweeper(_ state: inout State) -> Bool {
        if state.sweeping { return false }
        state.sweeping = true
        return true
    }

    /// One loop closes every answered invocation's log when it is due and
    /// hands the outbox on, so a busy function costs one timer and one write
    /// per settle time, not one per invocation. It ends when nothing is left.
    private func sweep() async {
        while true {
            try? await Task.sleep(for: settleTime)
            let now = ContinuousClock.now
            let (closed, outbox, done) = state.withLock { state -> ([Closed], Outbox, Bool) in
                var ready: [InvocationID] = []
                var waiting: [Due] = []
                for due in state.due {
                    // A later attempt's log under the same id is not this one's to close.
                    guard let log = state.open[due.id], log.serial == due.serial else { continue }
                    let awaitingMemory = log.answered?.outcome != .oom && state.maxMemory[log.environment] == nil
                        && state.owner[log.environment] == due.id && now < due.memoryDeadline
                    // Someone waits for this very log (`Tail`): give the engine's
                    // log stream longer to deliver the function's last lines, as
                    // long as the environment has not moved on.
                    let awaitingOutput = !log.waiters.isEmpty && state.owner[log.environment] == due.id
                        && now < due.at + tailSettleTime - settleTime
                    if due.at <= now && !awaitingMemory && !awaitingOutput {
                        ready.append(due.id)
                    } else {
                        waiting.append(due)
                    }
                }
                state.due = waiting
                let closed = ready.compactMap { self.close($0, in: &state) }
                let outbox = state.outbox
                state.outbox = Outbox()
                if waiting.isEmpty { state.sweeping = false }
                return (closed, outbox, waiting.isEmpty)
            }
            emit(outbox)
            for item in closed { item.resumeWaiters() }
            if done { return }
        }
    }

    /// The environment is gone: whatever it was doing is finished.
    func environmentGone(_ env: EnvironmentID, function: String) {
        // A last line without its newline still belongs to the log.
        if state.withLock({ $0.partial[env] != nil }) { output(env, function: function, [UInt8(ascii: "\n")]) }
        let (closed, startSweeper) = state.withLock { state -> (Closed?, Bool) in
            let closed = state.owner[env].flatMap { self.close($0, in: &state) }
            state.maxMemory[env] = nil
            state.partial[env] = nil
            return (closed, closed != nil && Self.claimSweeper(&state))
        }
        closed?.resumeWaiters()
        if startSweeper { Task { await self.sweep() } }
    }

    /// Makes the report of `id`'s next log go to ``report(of:)`` instead of the
    /// observer. Claim before the invocation starts.
    func claimReport(_ id: InvocationID) {
        claims.withLock { $0[id] = Claim() }
    }

    /// The claimed report of `id`, once its log has closed; nil when it never
    /// ran (no log was opened) or had no answer. The claim ends here.
    func report(of id: InvocationID) async -> InvocationReport? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> InvocationReport?? in
                let isOpen = state.open[id] != nil
                return claims.withLock { claims -> InvocationReport?? in
                    guard let claim = claims[id] else { return .some(nil) }
                    if claim.closed || !isOpen {
                        claims[id] = nil
                        return .some(claim.report)
                    }
                    claims[id]?.waiter = continuation
                    return .none
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The finished log of an invocation (waits for it to be finished).
    func log(of id: InvocationID) async -> String? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> String?? in
                if let finished = state.finished[id] { return .some(finished.joined(separator: "\n") + "\n") }
                guard state.open[id] != nil else { return .some(nil) }
                state.open[id]?.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    // MARK: - Finishing

    /// A finished invocation, for the callers waiting for its log.
    struct Closed {
        let waiters: [CheckedContinuation<String?, Never>]
        let kept: [String]
        var claimant: Claimant?

        func resumeWaiters() {
            if let claimant, let waiter = claimant.waiter { waiter.resume(returning: claimant.report) }
            guard !waiters.isEmpty else { return }
            let text = kept.joined(separator: "\n") + "\n"
            for waiter in waiters { waiter.resume(returning: text) }
        }
    }

    /// Hands the outbox on: one write per function, one batch of reports.
    private func emit(_ outbox: Outbox) {
        guard let observer, !outbox.isEmpty else { return }
        for function in outbox.functions { observer.functionLog(function, lines: outbox.lines[function] ?? []) }
        observer.invocationsReported(outbox.reports)
    }

    /// Ends an open log: END and REPORT join it and the outbox.
    private func close(_ id: InvocationID, in state: inout State) -> Closed? {
        guard var log = state.open.removeValue(forKey: id) else { return nil }
        if state.owner[log.environment] == id { state.owner[log.environment] = nil }
        var lines: [String] = []
        var report: InvocationReport?
        if let answered = log.answered {
            if let note = answered.note { lines.append(note) }
            let milliseconds = Double(answered.duration.components.seconds) * 1000
                + Double(answered.duration.components.attoseconds) / 1e15
            let used = answered.outcome == .oom
                ? log.memorySizeMiB
                : state.maxMemory[log.environment].map { Int(($0 + (1 << 20) - 1) >> 20) }
            report = InvocationReport(
                requestID: id, function: log.function, environment: log.environment,
                startedAtEpochMilliseconds: Int64(log.startedAt.timeIntervalSince1970 * 1000),
                durationMilliseconds: milliseconds,
                billedMilliseconds: LambdaLogFormat.billedMilliseconds(milliseconds),
                memorySizeMiB: log.memorySizeMiB, maxMemoryUsedMiB: used,
                initDurationMilliseconds: log.initDuration.map {
                    Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15
                },
                outcome: answered.outcome, errorType: answered.errorType)
        }
        lines.append(LambdaLogFormat.end(id))
        // A claimed report goes to its caller, who records it with its own
        // change in one transaction; any other to the observer.
        let claimant = settleClaim(id, report: report)
        if let report {
            lines.append(LambdaLogFormat.report(report))
            if claimant == nil { state.outbox.reports.append(report) }
        }
        for line in lines { Self.keep(line, in: &log) }
        state.outbox.post(log.function, lines)
        // Kept as lines (joined only if a late Tail reader asks).
        state.finished[id] = log.lines
        state.finishedOrder.append(id)
        if state.finishedOrder.count > 256 {
            let dropped = state.finishedOrder.removeFirst()
            state.finished[dropped] = nil
        }
        return Closed(waiters: log.waiters, kept: log.lines, claimant: claimant)
    }

    /// What becomes of a closed log's report when it was claimed: nil when it
    /// was not; else the caller's waiter to resume (outside the lock), or no
    /// waiter yet (the report is kept until the caller asks).
    private func settleClaim(_ id: InvocationID, report: InvocationReport?) -> Claimant? {
        claims.withLock { claims in
            guard var claim = claims[id] else { return nil }
            if let waiter = claim.waiter {
                claims[id] = nil
                return Claimant(waiter: waiter, report: report)
            }
            claim.closed = true
            claim.report = report
            claims[id] = claim
            return Claimant(waiter: nil, report: report)
        }
    }

    private static func keep(_ line: String, in log: inout OpenLog) {
        log.lines.append(line)
        log.bytes += line.utf8.count + 1
        while log.bytes > keptBytes, log.lines.count > 1 {
            log.bytes -= log.lines.removeFirst().utf8.count + 1
        }
    }
}
