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
final class InvocationLogBook: Sendable {
    struct OpenLog: Sendable {
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
    }

    struct Due: Sendable {
        let id: InvocationID
        let at: ContinuousClock.Instant
        /// How long to wait for a first memory sample (REPORT's Max Memory Used).
        let memoryDeadline: ContinuousClock.Instant
    }

    /// Most bytes of one invocation's log kept in memory (Tail shows the last 4 KB).
    static let keptBytes = 16 * 1024
    private let state = Mutex(State())
    private let observer: (any FunctionHostObserver)?
    let settleTime: Duration

    init(observer: (any FunctionHostObserver)?, settleTime: Duration = .milliseconds(15)) {
        self.observer = observer
        self.settleTime = settleTime
    }

    // MARK: - Inputs

    /// A chunk of an environment's output (stdout or stderr).
    func output(_ env: EnvironmentID, function: String, _ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = state.withLock { state -> [String] in
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
            return complete
        }
        if !lines.isEmpty { observer?.functionLog(function, lines: lines) }
    }

    /// The latest memory sample of an environment (peak bytes so far).
    func memory(_ env: EnvironmentID, maxUsageBytes: Int64) {
        state.withLock { state in
            state.maxMemory[env] = max(state.maxMemory[env] ?? 0, maxUsageBytes)
        }
    }

    /// An invocation was handed to an environment: its log begins.
    func delivered(_ id: InvocationID, env: EnvironmentID, function: String, memorySizeMiB: Int, initDuration: Duration?) {
        let previous = state.withLock { $0.owner[env] }
        if let previous { finalize(previous) }
        let start = LambdaLogFormat.start(id)
        state.withLock { state in
            var log = OpenLog(function: function, environment: env, startedAt: Date(), memorySizeMiB: memorySizeMiB,
                              initDuration: initDuration, lines: [])
            Self.keep(start, in: &log)
            state.open[id] = log
            state.owner[env] = id
        }
        observer?.functionLog(function, lines: [start])
    }

    /// The invocation has its outcome; END and REPORT follow after the settle time.
    func answered(_ id: InvocationID, duration: Duration, outcome: InvocationReport.Outcome, errorType: String?, note: String? = nil) {
        let now = ContinuousClock.now
        let startSweeper = state.withLock { state -> Bool in
            guard state.open[id] != nil else { return false }
            state.open[id]?.answered = (duration, outcome, errorType, note)
            // REPORT's Max Memory Used comes from the engine's stats stream,
            // which samples about once a second: on a cold start, wait a little
            // for the first sample rather than print none.
            state.due.append(Due(id: id, at: now + settleTime, memoryDeadline: now + .milliseconds(1500)))
            if state.sweeping { return false }
            state.sweeping = true
            return true
        }
        if startSweeper { Task { await self.sweep() } }
    }

    /// One loop closes every answered invocation's log when it is due, so a
    /// busy function costs one timer, not one per invocation.
    private func sweep() async {
        while true {
            try? await Task.sleep(for: settleTime)
            let now = ContinuousClock.now
            let (closed, done) = state.withLock { state -> ([Closed], Bool) in
                var ready: [InvocationID] = []
                var waiting: [Due] = []
                for due in state.due {
                    guard let log = state.open[due.id] else { continue }
                    let awaitingMemory = log.answered?.outcome != .oom && state.maxMemory[log.environment] == nil
                        && state.owner[log.environment] == due.id && now < due.memoryDeadline
                    if due.at <= now && !awaitingMemory { ready.append(due.id) } else { waiting.append(due) }
                }
                state.due = waiting
                if waiting.isEmpty { state.sweeping = false }
                return (ready.compactMap { Self.close($0, in: &state) }, waiting.isEmpty)
            }
            emit(closed)
            if done { return }
        }
    }

    /// The environment is gone: whatever it was doing is finished.
    func environmentGone(_ env: EnvironmentID, function: String) {
        // A last line without its newline still belongs to the log.
        if state.withLock({ $0.partial[env] != nil }) { output(env, function: function, [UInt8(ascii: "\n")]) }
        if let owner = state.withLock({ $0.owner[env] }) { finalize(owner) }
        state.withLock { state in
            state.maxMemory[env] = nil
            state.partial[env] = nil
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

    /// A finished invocation's log, ready to hand out.
    struct Closed {
        let function: String
        let lines: [String]
        let report: InvocationReport?
        let waiters: [CheckedContinuation<String?, Never>]
        let kept: [String]
    }

    private func finalize(_ id: InvocationID) {
        guard let closed = state.withLock({ Self.close(id, in: &$0) }) else { return }
        emit([closed])
    }

    /// Hands finished logs on: one write per function, one batch of reports.
    private func emit(_ closed: [Closed]) {
        guard !closed.isEmpty else { return }
        if let observer {
            var order: [String] = []
            var byFunction: [String: [String]] = [:]
            for item in closed {
                if byFunction[item.function] == nil { order.append(item.function) }
                byFunction[item.function, default: []] += item.lines
            }
            for function in order { observer.functionLog(function, lines: byFunction[function] ?? []) }
            observer.invocationsReported(closed.compactMap(\.report))
        }
        for item in closed where !item.waiters.isEmpty {
            let text = item.kept.joined(separator: "\n") + "\n"
            for waiter in item.waiters { waiter.resume(returning: text) }
        }
    }

    private static func close(_ id: InvocationID, in state: inout State) -> Closed? {
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
        if let report { lines.append(LambdaLogFormat.report(report)) }
        for line in lines { keep(line, in: &log) }
        // Kept as lines (joined only if a late Tail reader asks).
        state.finished[id] = log.lines
        state.finishedOrder.append(id)
        if state.finishedOrder.count > 256 {
            let dropped = state.finishedOrder.removeFirst()
            state.finished[dropped] = nil
        }
        return Closed(function: log.function, lines: lines, report: report, waiters: log.waiters, kept: log.lines)
    }

    private static func keep(_ line: String, in log: inout OpenLog) {
        log.lines.append(line)
        log.bytes += line.utf8.count + 1
        while log.bytes > keptBytes, log.lines.count > 1 {
            log.bytes -= log.lines.removeFirst().utf8.count + 1
        }
    }
}
