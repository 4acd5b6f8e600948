import Engine
import Foundation
import FunctionMode
import Logging
import Synchronization

/// Runs tasks on one engine: one ``TaskState`` per task, whose actions it
/// executes. Every engine call runs in the work queue its ``run()`` owns.
public final class LocalTaskRunner: Sendable {
    /// The attempt of a run that has a container.
    struct Attempt: Sendable {
        var container: String
        /// Nil until the container has started.
        var startedAtEpochMilliseconds: Int64?
        var startedAt: ContinuousClock.Instant
        /// The limits it ran under (the task may be gone when its run ends).
        var memoryBytes: Int64
        var cpus: Double?
        var duration: Duration = .zero
        var cpuSeconds: Double?
        var maxMemoryBytes: Int64?
    }

    struct Core: Sendable {
        var states: [String: TaskState] = [:]
        var outputs: [TaskRunID: TaskRunOutput] = [:]
        var payloads: [TaskRunID: [UInt8]] = [:]
        var attempts: [TaskRunID: Attempt] = [:]
        /// The last results of each task, newest last.
        var history: [String: [TaskRunResult]] = [:]
        var admitted: Set<TaskRunID> = []
        /// Removed tasks whose last runs are still being stopped.
        var removing: [String: TaskState] = [:]
        /// Finished runs whose output is still kept, oldest first.
        var finished: [TaskRunID] = []
        var drainDeadline: ContinuousClock.Instant?
        var stopped = false
        var timersStopped = false
    }

    let engine: EngineClient
    let project: String
    let admission: Admission
    let network: String
    let logger: Logger
    let onFinished: @Sendable (TaskRunResult) -> Void
    let onOutput: @Sendable (String, TaskRunID, [UInt8]) -> Void
    let core = Mutex(Core())
    let work = WorkQueue()
    let doorbell = Doorbell()

    /// - Parameters:
    ///   - onFinished: called once per run with its result (for the ledger).
    ///   - onOutput: every attempt's output, by task and run (for the task's log file).
    public init(
        engine: EngineClient, project: String, admission: Admission, network: String = "bridge", logger: Logger,
        onFinished: @escaping @Sendable (TaskRunResult) -> Void = { _ in },
        onOutput: @escaping @Sendable (String, TaskRunID, [UInt8]) -> Void = { _, _, _ in }
    ) {
        self.engine = engine
        self.project = project
        self.admission = admission
        self.network = network
        self.logger = logger
        self.onFinished = onFinished
        self.onOutput = onOutput
    }

    /// Adds a task, or changes its spec for attempts that start from now on.
    public func deploy(_ spec: TaskSpec) {
        let now = ContinuousClock.now
        perform(spec.name, core.withLock { core -> [TaskAction] in
            guard var state = core.states[spec.name] else {
                core.states[spec.name] = TaskState(spec: spec)
                return []
            }
            let actions = state.update(spec, now: now)
            core.states[spec.name] = state
            return actions
        })
    }

    /// Removes a task: waiting runs end as cancelled, running ones are
    /// stopped, and no run starts any more.
    public func remove(_ name: String) {
        let now = ContinuousClock.now
        perform(name, core.withLock { core -> [TaskAction] in
            guard var state = core.states.removeValue(forKey: name) else { return [] }
            let actions = state.drain(now: now)
            if !state.isIdle { core.removing[name] = state }
            return actions
        })
    }

    /// Whether a task of this name is deployed.
    public func has(_ name: String) -> Bool { core.withLock { $0.states[name] != nil } }

    /// Starts a run of `name` with `payload` on its standard input.
    /// - Returns: the run's id and its output, to follow and to wait for.
    public func start(_ name: String, payload: [UInt8]) throws(TaskRunError) -> (TaskRunID, TaskRunOutput) {
        let id = TaskRunID(UUID().uuidString.lowercased())
        let output = TaskRunOutput()
        let now = ContinuousClock.now
        let actions = try core.withLock { core throws(TaskRunError) -> [TaskAction] in
            guard var state = core.states[name] else { throw .unknownTask(name) }
            guard !core.stopped, core.drainDeadline == nil else { throw .stopping }
            core.outputs[id] = output
            core.payloads[id] = payload
            let actions = state.request(id, now: now)
            core.states[name] = state
            return actions
        }
        perform(name, actions)
        return (id, output)
    }

    /// A run's output and result (also for a while after it ended).
    public func output(of id: TaskRunID) -> TaskRunOutput? { core.withLock { $0.outputs[id] } }

    /// What `tandem ps` shows, by task.
    public func views() -> [TaskView] {
        core.withLock { core in
            core.states.keys.sorted().map { name in
                let state = core.states[name]!
                return TaskView(name: name, running: state.running, waiting: state.waiting,
                                reserved: state.spec.reserved, recent: core.history[name] ?? [])
            }
        }
    }

    func event(_ name: String, _ body: (inout TaskState) -> [TaskAction]) {
        perform(name, core.withLock { core -> [TaskAction] in
            if var state = core.removing[name] {
                let actions = body(&state)
                core.removing[name] = state.isIdle ? nil : state
                return actions
            }
            guard var state = core.states[name] else { return [] }
            let actions = body(&state)
            core.states[name] = state
            return actions
        })
    }

    func perform(_ name: String, _ actions: [TaskAction]) {
        for action in actions {
            switch action {
            case .start(let id, let attempt):
                if !work.submit({ await self.runAttempt(name, id, attempt: attempt) }) {
                    event(name) { $0.startFailed(id, reason: "the controller is stopping", now: .now) }
                }
            case .stop(_, let container, let grace):
                work.submit {
                    _ = try? await self.engine.stopContainer(container, timeout: Self.wholeSeconds(grace))
                }
            case .attemptFailed(let id, let attempt, let end, let retryIn):
                let line = "[tandem] attempt \(attempt) \(end.reason); attempt \(attempt + 1) in \(retryIn)\n"
                output(of: id)?.append(Array(line.utf8))
                logger.info("task attempt failed", metadata: ["task": "\(name)", "run": "\(id)", "reason": "\(end.reason)"])
            case .finished(let id, let attempts, let end):
                finish(name, id, attempts: attempts, end: end)
            }
        }
        doorbell.ring()
    }

    private func finish(_ name: String, _ id: TaskRunID, attempts: Int, end: TaskEnd) {
        let (result, output) = core.withLock { core -> (TaskRunResult, TaskRunOutput?) in
            let attempt = core.attempts.removeValue(forKey: id)
            let spec = (core.states[name] ?? core.removing[name])?.spec
            let memoryBytes = attempt?.memoryBytes ?? spec?.memoryBytes ?? 0
            let result = TaskRunResult(
                id: id, task: name, attempts: attempts, end: end,
                startedAtEpochMilliseconds: attempt?.startedAtEpochMilliseconds ?? nil, duration: attempt?.duration ?? .zero,
                cpuSeconds: attempt?.cpuSeconds, maxMemoryBytes: attempt?.maxMemoryBytes,
                memoryBytes: memoryBytes, cpus: attempt.map(\.cpus) ?? spec?.cpus)
            core.payloads[id] = nil
            // A finished run's output stays for readers that come late, for the last 64 runs.
            core.finished.append(id)
            if core.finished.count > 64 { core.outputs[core.finished.removeFirst()] = nil }
            core.history[name, default: []].append(result)
            if core.history[name]!.count > 5 { core.history[name]!.removeFirst() }
            return (result, core.outputs[id])
        }
        output?.finish(result)
        onFinished(result)
    }

    static func wholeSeconds(_ duration: Duration) -> Int {
        max(0, Int((Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18).rounded(.up)))
    }
}

/// Why a run could not be started.
public enum TaskRunError: Error, Equatable, CustomStringConvertible {
    case unknownTask(String)
    case stopping

    public var description: String {
        switch self {
        case .unknownTask(let name): "no task named \(name) runs here; `tandem ps` lists them"
        case .stopping: "the controller is stopping and starts no more runs"
        }
    }
}

/// One task as `tandem ps` shows it.
public struct TaskView: Sendable, Equatable {
    public var name: String
    public var running: Int
    public var waiting: Int
    public var reserved: Int?
    /// Its last results, newest last.
    public var recent: [TaskRunResult]
}
