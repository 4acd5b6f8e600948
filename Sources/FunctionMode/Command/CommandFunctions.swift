import Engine
import Foundation
import Logging
import NIOCore
import Synchronization

/// Runs `command`-contract functions: one container per event, the event on
/// the process's stdin, the result from its stdout, the exit status and stderr
/// into the error and the log. Same outward shape as ``FunctionHost``
/// (``deploy(_:)``, ``invoke(_:payload:clientContext:includeLog:)`` returning an
/// ``InvocationResult``, logs and reports through a ``FunctionHostObserver``).
///
/// Per invocation: create the container (``CommandContainer/spec(_:requestID:settings:)``:
/// locked down, `NetworkMode: none`), attach to it, queue the event and the end
/// of input, start it, collect stdout and stderr until the process exits (or
/// kill it at the function's timeout), inspect it for an OOM kill, answer, and
/// remove it in the background (``waitForCleanup()`` waits for removals). The
/// container is removed on every path, also when the engine fails midway or
/// the caller goes away (the invocation runs in its own task to the end).
///
/// There is no warm environment: every invocation is a cold start, and its
/// REPORT carries `Init Duration` = create + attach + start. `Duration` runs
/// from the start returning until the process's output ends.
///
/// `Max Memory Used` is left out of REPORT: the engine's memory figures die
/// with the container's cgroup. `GET /containers/{id}/stats?stream=false` on a
/// just-exited container answers at once but empty (`read` 0001-01-01, no
/// `memory_stats`), and on a running one it takes ~1 s on Docker 20.10 (also
/// with `one-shot=true`) — longer than most commands live — so a sample cannot
/// be had cheaply.
public final class CommandFunctions: Sendable {
    struct State: Sendable {
        var definitions: [String: FunctionDefinition] = [:]
        /// Invocations in flight, per function.
        var running: [String: Int] = [:]
        var total = 0
        /// Containers not yet removed, by invocation (for shutdown).
        var containers: [InvocationID: String] = [:]
        /// Removals under way, by invocation.
        var removals: [InvocationID: Task<Void, Never>] = [:]
        var shuttingDown = false
        /// Set by `drain()`: new invocations are refused.
        var draining = false
    }

    public let engine: EngineClient
    public let settings: FunctionHostSettings
    private let observer: (any FunctionHostObserver)?
    private let logger: Logger
    private let state = Mutex(State())
    /// The machine-wide limit, shared with the other runners: each container holds a slot.
    public let admission: Admission
    /// Called with each container's id after the process ended, before the
    /// container is removed (tests inspect it there).
    let beforeRemoval: (@Sendable (String) async -> Void)?

    public convenience init(
        engine: EngineClient, settings: FunctionHostSettings = FunctionHostSettings(),
        observer: (any FunctionHostObserver)? = nil, admission: Admission? = nil,
        logger: Logger = Logger(label: "tandem.command")
    ) {
        self.init(engine: engine, settings: settings, observer: observer, admission: admission, logger: logger,
                  beforeRemoval: nil)
    }

    init(
        engine: EngineClient, settings: FunctionHostSettings, observer: (any FunctionHostObserver)?,
        admission: Admission? = nil, logger: Logger = Logger(label: "tandem.command"),
        beforeRemoval: (@Sendable (String) async -> Void)?
    ) {
        self.admission = admission ?? Admission(limit: settings.globalConcurrency)
        self.engine = engine
        self.settings = settings
        self.observer = observer
        self.logger = logger
        self.beforeRemoval = beforeRemoval
    }

    // MARK: - Functions

    /// Adds or updates a function (takes effect for the next invocation).
    public func deploy(_ definition: FunctionDefinition) {
        state.withLock { $0.definitions[definition.name] = definition }
    }

    /// Removes a function; invocations in flight finish.
    public func undeploy(_ name: String) {
        _ = state.withLock { $0.definitions.removeValue(forKey: name) }
    }

    public func definition(_ name: String) -> FunctionDefinition? {
        state.withLock { $0.definitions[name] }
    }

    /// Invocations in flight (of one function, or all).
    public func inFlight(_ function: String? = nil) -> Int {
        state.withLock { state in function.map { state.running[$0] ?? 0 } ?? state.total }
    }

    /// Refuses new invocations (`.failed(.shuttingDown)`); those in flight go on.
    public func drain() {
        state.withLock { $0.draining = true }
    }

    /// Draining (or shut down) with nothing in flight any more.
    public var isDrained: Bool {
        state.withLock { ($0.draining || $0.shuttingDown) && $0.total == 0 }
    }

    /// Kills the containers of invocations in flight (they end as
    /// `.failed(.shuttingDown)`), refuses new invocations, and waits until
    /// every container is removed.
    public func shutdown() async {
        let containers = state.withLock { state in
            state.shuttingDown = true
            return Array(state.containers.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for id in containers {
                group.addTask { try? await self.engine.killContainer(id) }
            }
        }
        while state.withLock({ $0.total > 0 }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await waitForCleanup()
    }

    // MARK: - Invoking

    /// Invokes a function and waits for its outcome. Never throws: every way an
    /// invocation can end is an ``InvocationOutcome``. Cancelling the caller
    /// does not cut the invocation short (its container must be cleaned up).
    /// - Parameter includeLog: return the invocation's log (START … REPORT) in
    ///   ``InvocationResult/log`` (for `X-Amz-Log-Type: Tail`).
    /// - Parameter claimReport: return the report in ``InvocationResult/report``
    ///   instead of handing it to the observer.
    public func invoke(
        _ function: String, payload: ByteBuffer, clientContext: String? = nil, includeLog: Bool = false,
        claimReport: Bool = false
    ) async -> InvocationResult {
        let id = InvocationID(Identifiers.requestID())
        let arrivedAt = ContinuousClock.now
        let admitted = state.withLock { state -> Result<FunctionDefinition, InvocationFailureOrRejection> in
            if state.shuttingDown || state.draining { return .failure(.failed(.shuttingDown)) }
            guard let definition = state.definitions[function] else { return .failure(.rejected(.unknownFunction)) }
            let limit = min(definition.reservedConcurrency ?? settings.globalConcurrency, settings.globalConcurrency)
            if limit <= 0 { return .failure(.rejected(.throttled)) }
            if state.running[function, default: 0] >= limit {
                return .failure(.rejected(definition.reservedConcurrency != nil
                    ? .reservedConcurrencyExceeded(limit: limit)
                    : .globalConcurrencyExceeded(limit: settings.globalConcurrency)))
            }
            // The machine-wide limit, counted with the other runners' containers.
            guard admission.tryReserve(.commandContainers) else {
                return .failure(.rejected(.globalConcurrencyExceeded(limit: admission.limit)))
            }
            state.running[function, default: 0] += 1
            state.total += 1
            return .success(definition)
        }
        let definition: FunctionDefinition
        switch admitted {
        case .success(let admittedDefinition):
            definition = admittedDefinition
        case .failure(let refusal):
            let outcome: InvocationOutcome
            switch refusal {
            case .failed(let failure): outcome = .failed(failure)
            case .rejected(let rejection): outcome = .rejected(rejection)
            }
            return InvocationResult(
                requestID: id, function: function, outcome: outcome, environment: nil, duration: nil,
                initDuration: nil, totalDuration: ContinuousClock.now - arrivedAt,
                memorySizeMiB: self.definition(function)?.memoryMiB ?? 0)
        }
        let event = Array(payload.readableBytesView)
        // Its own task: a cancelled caller must not cancel the cleanup.
        var result = await Task {
            await self.run(id, definition: definition, event: event, arrivedAt: arrivedAt, claimReport: claimReport)
        }.value
        state.withLock { state in
            state.running[function, default: 1] -= 1
            if state.running[function] == 0 { state.running[function] = nil }
            state.total -= 1
            admission.release(.commandContainers)
        }
        if !includeLog { result.log = nil }
        return result
    }

    /// Why an invocation was not admitted.
    enum InvocationFailureOrRejection: Error {
        case failed(InvocationFailure)
        case rejected(Rejection)
    }

    /// Set by the timer when it killed the process.
    private final class TimeoutFlag: Sendable {
        let fired = Atomic<Bool>(false)
    }

    private func run(
        _ id: InvocationID, definition: FunctionDefinition, event: [UInt8], arrivedAt: ContinuousClock.Instant,
        claimReport: Bool
    ) async -> InvocationResult {
        let environment = EnvironmentID("cmd-" + id.rawValue.prefix(8))
        var log = CommandLog(function: definition.name, requestID: id, observer: observer)
        var containerID: String?
        var outcome: InvocationOutcome
        var initDuration: Duration?
        var duration: Duration?
        var startedAtEpochMilliseconds: Int64?
        let flag = TimeoutFlag()
        do {
            let createdAt = ContinuousClock.now
            let spec = CommandContainer.spec(definition, requestID: id, settings: settings)
            let created = try await engine.createContainer(
                spec, name: "tandem-\(Self.nameSafe(definition.name))-\(id.rawValue.prefix(13))")
            containerID = created.id
            let stopping = state.withLock { state in
                state.containers[id] = created.id
                return state.shuttingDown
            }
            if stopping { throw CancellationError() }
            // Attach before start, so no output is missed; the event and the
            // end of input are queued at once and flow when the process reads.
            let attached = try await engine.attach(created.id)
            attached.write(event)
            attached.closeStdin()
            do {
                try await engine.startContainer(created.id)
            } catch {
                attached.cancel()
                throw error
            }
            let startedAt = ContinuousClock.now
            startedAtEpochMilliseconds = Int64((Date().timeIntervalSince1970 * 1000).rounded())
            initDuration = startedAt - createdAt
            log.start()

            let timer = Task { [engine] in
                try await Task.sleep(for: definition.timeout)
                flag.fired.store(true, ordering: .sequentiallyConsistent)
                try? await engine.killContainer(created.id)
                // The engine closes the attach stream when the process dies; if
                // it somehow does not, stop reading anyway.
                try await Task.sleep(for: .seconds(5))
                attached.cancel()
            }
            var stdout: [UInt8] = []
            var stdoutBytes = 0
            do {
                for try await chunk in attached.output {
                    switch chunk.stream {
                    case .stdout:
                        stdoutBytes += chunk.bytes.count
                        if stdout.count <= RuntimeAPI.maxPayloadBytes { stdout += chunk.bytes }
                    case .stderr, .systemError:
                        log.stderr(chunk.bytes)
                    case .stdin:
                        break
                    }
                }
            } catch {
                if !flag.fired.load(ordering: .sequentiallyConsistent) {
                    timer.cancel()
                    throw error
                }
            }
            timer.cancel()
            let endedAt = ContinuousClock.now
            duration = endedAt - startedAt
            if flag.fired.load(ordering: .sequentiallyConsistent) {
                outcome = .failed(.timedOut(after: definition.timeout))
            } else {
                var inspect = try await engine.inspectContainer(created.id)
                if inspect.state.running {
                    _ = try await engine.waitContainer(created.id, condition: .notRunning)
                }
                if inspect.state.running || (inspect.state.exitCode == 137 && !inspect.state.oomKilled) {
                    inspect = try await engine.inspectExited(created.id)
                }
                if state.withLock({ $0.shuttingDown }) {
                    outcome = .failed(.shuttingDown)
                } else {
                    outcome = CommandOutcome.make(
                        exitCode: inspect.state.exitCode, outOfMemory: inspect.state.oomKilled,
                        stdout: stdout, stdoutBytes: stdoutBytes, lastStderrLine: log.lastStderrLine)
                }
            }
        } catch {
            if state.withLock({ $0.shuttingDown }) {
                outcome = .failed(.shuttingDown)
            } else {
                logger.warning("command invocation failed", metadata: [
                    "function": "\(definition.name)", "request": "\(id)", "error": "\(error)",
                ])
                outcome = .failed(.environmentUnavailable(message: "\(error)"))
            }
        }
        if let containerID {
            if let beforeRemoval { await beforeRemoval(containerID) }
            removeLater(containerID, invocation: id)
        }
        let finishedAt = ContinuousClock.now

        var text: String?
        var claimed: InvocationReport?
        if let duration, let startedAtEpochMilliseconds {
            let (kind, errorType, note) = Self.logSummary(outcome, requestID: id)
            let milliseconds = duration.inMilliseconds
            let report = InvocationReport(
                requestID: id, function: definition.name, environment: environment,
                startedAtEpochMilliseconds: startedAtEpochMilliseconds, durationMilliseconds: milliseconds,
                billedMilliseconds: LambdaLogFormat.billedMilliseconds(milliseconds),
                memorySizeMiB: definition.memoryMiB, maxMemoryUsedMiB: kind == .oom ? definition.memoryMiB : nil,
                initDurationMilliseconds: initDuration?.inMilliseconds, outcome: kind, errorType: errorType)
            text = log.finish(note: note, report: report, claimed: claimReport)
            if claimReport { claimed = report }
        }
        var result = InvocationResult(
            requestID: id, function: definition.name, outcome: outcome,
            environment: duration == nil ? nil : environment, duration: duration, initDuration: initDuration,
            totalDuration: finishedAt - arrivedAt, memorySizeMiB: definition.memoryMiB, log: text)
        result.report = claimed
        return result
    }

    /// Removes the container in the background: the outcome is known, and the
    /// caller need not wait the ~10 ms a removal takes. ``waitForCleanup()``
    /// and ``shutdown()`` wait for these removals.
    private func removeLater(_ containerID: String, invocation id: InvocationID) {
        let removal = Task {
            await self.remove(containerID)
            self.state.withLock { state in
                state.containers[id] = nil
                state.removals[id] = nil
            }
        }
        state.withLock { state in
            // The task may have finished already: only track it while the container is listed.
            if state.containers[id] != nil { state.removals[id] = removal }
        }
    }

    /// Waits until every finished invocation's container is removed.
    public func waitForCleanup() async {
        while true {
            let pending = state.withLock { Array($0.removals.values) }
            if pending.isEmpty { return }
            for removal in pending { await removal.value }
        }
    }

    private func remove(_ containerID: String) async {
        for attempt in 0..<3 {
            do {
                try await engine.removeContainer(containerID, force: true)
                return
            } catch let error as EngineError where error.code == .notFound {
                return
            } catch {
                if attempt == 2 {
                    logger.warning("could not remove container", metadata: ["container": "\(containerID)", "error": "\(error)"])
                } else {
                    try? await Task.sleep(for: .milliseconds(50 << attempt))
                }
            }
        }
    }

    /// How an outcome reads in the log and the ledger: its kind, error type,
    /// and the line Lambda writes for it before END.
    static func logSummary(_ outcome: InvocationOutcome, requestID: InvocationID)
        -> (InvocationReport.Outcome, String?, String?)
    {
        switch outcome {
        case .functionError(let report):
            let kind: InvocationReport.Outcome = report.errorType == "Runtime.OutOfMemory" ? .oom : .error
            return (kind, report.errorType, "RequestId: \(requestID) Error: Runtime exited with error: \(report.errorMessage)")
        default:
            return FunctionHost.logSummary(outcome, requestID: requestID)
        }
    }

    /// A function name as a container-name part (`[a-zA-Z0-9_.-]`).
    static func nameSafe(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") ? $0 : "-" })
    }
}

extension Duration {
    /// Milliseconds as a fraction.
    var inMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
