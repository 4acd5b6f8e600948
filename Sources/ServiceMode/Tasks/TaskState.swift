/// The runs of one task, as a pure state machine: which run starts now,
/// which waits for `reserved`, which is re-run after a failure and when,
/// which has run past its timeout. No I/O, no clock: time is passed in.
public struct TaskState: Sendable {
    public typealias Instant = ContinuousClock.Instant

    enum Phase: Sendable, Equatable {
        /// Waiting for a free place under `reserved`.
        case waiting
        /// Waiting to be re-run after a failed attempt.
        case backingOff(until: Instant)
        /// Its container is being created and started.
        case starting
        /// Running in `container`.
        case running(container: String, deadline: Instant?)
        /// Being stopped (its timeout passed, or the controller stops).
        case stopping(container: String, end: TaskEnd)
    }

    struct Run: Sendable, Equatable {
        let id: TaskRunID
        var attempt = 1
        var phase = Phase.waiting
    }

    public private(set) var spec: TaskSpec
    /// Runs not yet finished, in the order they were asked for.
    var runs: [Run] = []
    var draining = false

    public init(spec: TaskSpec) { self.spec = spec }

    /// A new spec applies to attempts that start from now on.
    public mutating func update(_ spec: TaskSpec, now: Instant) -> [TaskAction] {
        self.spec = spec
        return schedule(now: now)
    }

    /// A run is asked for.
    public mutating func request(_ id: TaskRunID, now: Instant) -> [TaskAction] {
        guard !draining else { return [.finished(id, attempts: 0, TaskEnd(.cancelled, exitCode: nil, reason: "the controller is stopping"))] }
        runs.append(Run(id: id))
        return schedule(now: now)
    }

    /// The attempt's container runs.
    public mutating func started(_ id: TaskRunID, container: String, now: Instant) -> [TaskAction] {
        guard let index = index(of: id), runs[index].phase == .starting else { return [.stop(id, container: container, grace: .zero)] }
        if draining {
            let end = TaskEnd(.cancelled, exitCode: nil, reason: "the controller is stopping")
            runs[index].phase = .stopping(container: container, end: end)
            return [.stop(id, container: container, grace: .zero)]
        }
        runs[index].phase = .running(container: container, deadline: spec.timeout.map { now + $0 })
        return []
    }

    /// The attempt's container could not be created or started: a failed attempt.
    public mutating func startFailed(_ id: TaskRunID, reason: String, now: Instant) -> [TaskAction] {
        guard let index = index(of: id) else { return [] }
        return ended(index, TaskEnd(.failed, exitCode: nil, reason: "could not start: \(reason)"), now: now)
    }

    /// The machine-wide limit had no room: the run waits and tries again.
    public mutating func startRefused(_ id: TaskRunID, retryIn: Duration, now: Instant) -> [TaskAction] {
        guard let index = index(of: id) else { return [] }
        if draining {
            let run = runs.remove(at: index)
            return [.finished(id, attempts: run.attempt - 1, TaskEnd(.cancelled, exitCode: nil, reason: "the controller is stopping"))]
        }
        runs[index].phase = .backingOff(until: now + retryIn)
        return schedule(now: now)
    }

    /// The attempt's container ended.
    public mutating func exited(_ id: TaskRunID, exitCode: Int, outOfMemory: Bool, now: Instant) -> [TaskAction] {
        guard let index = index(of: id) else { return [] }
        let end: TaskEnd
        switch runs[index].phase {
        case .stopping(_, let reason):
            end = TaskEnd(reason.kind, exitCode: exitCode, reason: reason.reason)
        case _ where outOfMemory:
            end = TaskEnd(.outOfMemory, exitCode: exitCode, reason: "killed for exceeding its memory limit")
        case _ where exitCode == 0:
            end = TaskEnd(.succeeded, exitCode: 0, reason: "exited with code 0")
        default:
            end = TaskEnd(.failed, exitCode: exitCode, reason: "exited with code \(exitCode)")
        }
        return ended(index, end, now: now)
    }

    /// Time passed: timeouts, and re-runs whose back-off is over.
    public mutating func tick(now: Instant) -> [TaskAction] {
        var actions: [TaskAction] = []
        for index in runs.indices {
            guard case .running(let container, let deadline?) = runs[index].phase, deadline <= now else { continue }
            let timeout = spec.timeout ?? .zero
            runs[index].phase = .stopping(container: container, end: TaskEnd(.timedOut, exitCode: nil, reason: "timed out after \(timeout)"))
            actions.append(.stop(runs[index].id, container: container, grace: spec.stopTimeout))
        }
        return actions + schedule(now: now)
    }

    /// The controller stops: waiting runs end as cancelled, running ones are stopped.
    public mutating func drain(now: Instant) -> [TaskAction] {
        draining = true
        var actions: [TaskAction] = []
        let cancelled = TaskEnd(.cancelled, exitCode: nil, reason: "the controller is stopping")
        for run in runs {
            switch run.phase {
            case .waiting, .backingOff:
                actions.append(.finished(run.id, attempts: run.attempt - 1, cancelled))
            case .running(let container, _):
                if let index = index(of: run.id) { runs[index].phase = .stopping(container: container, end: cancelled) }
                actions.append(.stop(run.id, container: container, grace: spec.stopTimeout))
            case .starting, .stopping:
                break
            }
        }
        runs.removeAll { if case .waiting = $0.phase { true } else if case .backingOff = $0.phase { true } else { false } }
        return actions
    }

    /// When ``tick(now:)`` has something to do next, if ever: a timeout, or
    /// the end of a back-off when the run could start then (a run that waits
    /// for room under `reserved` starts when a run ends, not at a time).
    public var nextWakeUp: Instant? {
        let roomToStart = !draining && (spec.reserved.map { running < $0 } ?? true)
        return runs.compactMap { run -> Instant? in
            switch run.phase {
            case .backingOff(let until): roomToStart ? until : nil
            case .running(_, let deadline): deadline
            default: nil
            }
        }.min()
    }

    /// Runs whose container exists or is being made.
    public var running: Int {
        runs.count { run in
            switch run.phase {
            case .starting, .running, .stopping: true
            case .waiting, .backingOff: false
            }
        }
    }

    /// Runs waiting for a place or a re-run.
    public var waiting: Int { runs.count - running }

    public var isIdle: Bool { runs.isEmpty }

    // MARK: -

    private func index(of id: TaskRunID) -> Int? { runs.firstIndex { $0.id == id } }

    private mutating func ended(_ index: Int, _ end: TaskEnd, now: Instant) -> [TaskAction] {
        let run = runs[index]
        let retriable = end.kind == .failed || end.kind == .timedOut || end.kind == .outOfMemory
        if retriable, run.attempt <= spec.retries, !draining {
            let delay = spec.backoff(beforeRetry: run.attempt)
            runs[index].attempt += 1
            runs[index].phase = .backingOff(until: now + delay)
            return [.attemptFailed(run.id, attempt: run.attempt, end, retryIn: delay)] + schedule(now: now)
        }
        runs.remove(at: index)
        return [.finished(run.id, attempts: run.attempt, end)] + schedule(now: now)
    }

    /// Starts what may start: in request order, while under `reserved`.
    private mutating func schedule(now: Instant) -> [TaskAction] {
        guard !draining else { return [] }
        var actions: [TaskAction] = []
        var active = running
        for index in runs.indices {
            if let reserved = spec.reserved, active >= reserved { break }
            switch runs[index].phase {
            case .waiting:
                break
            case .backingOff(let until) where until <= now:
                break
            default:
                continue
            }
            runs[index].phase = .starting
            active += 1
            actions.append(.start(runs[index].id, attempt: runs[index].attempt))
        }
        return actions
    }
}

/// What a task runner does for a ``TaskState``.
public enum TaskAction: Sendable, Equatable {
    /// Create and start a container for this attempt of the run; then report
    /// ``TaskState/started(_:container:now:)`` or ``TaskState/startFailed(_:reason:now:)``.
    case start(TaskRunID, attempt: Int)
    /// SIGTERM, SIGKILL after `grace`; its exit is reported as usual.
    case stop(TaskRunID, container: String, grace: Duration)
    /// An attempt failed; the run goes again after `retryIn`.
    case attemptFailed(TaskRunID, attempt: Int, TaskEnd, retryIn: Duration)
    /// The run is over after `attempts` attempts.
    case finished(TaskRunID, attempts: Int, TaskEnd)
}
