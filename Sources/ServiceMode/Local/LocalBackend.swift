import Engine
import FunctionMode
import Logging
import Synchronization

/// tandem's own supervisor on one engine: one ``ServiceState`` per service,
/// whose actions it executes with the Engine API. Every engine call runs in
/// the work queue its ``run()`` owns, so shutdown waits for them and nothing
/// starts once shutdown began.
public final class LocalBackend: ServiceBackend {
    struct Core: Sendable {
        var states: [String: ServiceState] = [:]
        /// Replicas holding a slot of the machine-wide limit.
        var admitted: Set<ReplicaID> = []
        /// Replicas whose container exists, by id, for shutdown.
        var containers: [ReplicaID: String] = [:]
        var drainDeadline: ContinuousClock.Instant?
        var stopped = false
        var timersStopped = false
    }

    let engine: EngineClient
    let project: String
    let admission: Admission
    let traffic: any ReplicaTraffic
    let onChange: @Sendable (String, ServiceSpec?, [ReadyReplica]) -> Void
    let onNote: @Sendable (ServiceNote) -> Void
    let onOutput: @Sendable (ReplicaID, [UInt8]) -> Void
    let onContainerEnded: @Sendable (String) -> Void
    let logger: Logger
    let core = Mutex(Core())
    let work = WorkQueue()
    let doorbell = Doorbell()
    let network: String
    let backoff: CrashBackoff

    /// - Parameters:
    ///   - project: the `tandem.project` label of the manifest's folder.
    ///   - onChange: called with a service's spec (nil once removed) and ready replicas whenever they change.
    ///   - onNote: what the operator should read (a replica ready, ended, unhealthy).
    ///   - onOutput: what each replica prints, as it comes (for the service's log file).
    ///   - onContainerEnded: a replica's container has ended (by container id):
    ///     connections to it will never be answered.
    public init(
        engine: EngineClient, project: String, admission: Admission, traffic: any ReplicaTraffic,
        network: String = "bridge", backoff: CrashBackoff = CrashBackoff(), logger: Logger,
        onChange: @escaping @Sendable (String, ServiceSpec?, [ReadyReplica]) -> Void,
        onNote: @escaping @Sendable (ServiceNote) -> Void = { _ in },
        onOutput: @escaping @Sendable (ReplicaID, [UInt8]) -> Void = { _, _ in },
        onContainerEnded: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.engine = engine
        self.project = project
        self.admission = admission
        self.traffic = traffic
        self.network = network
        self.backoff = backoff
        self.logger = logger
        self.onChange = onChange
        self.onNote = onNote
        self.onOutput = onOutput
        self.onContainerEnded = onContainerEnded
    }

    public func apply(_ spec: ServiceSpec) {
        let now = ContinuousClock.now
        perform(spec.name, core.withLock { core -> [ServiceAction] in
            guard !core.stopped, core.drainDeadline == nil else { return [] }
            var state = core.states[spec.name] ?? ServiceState(name: spec.name, backoff: backoff)
            let actions = state.apply(spec, now: now)
            core.states[spec.name] = state
            return actions
        })
    }

    public func remove(_ name: String) {
        let now = ContinuousClock.now
        perform(name, core.withLock { core -> [ServiceAction] in
            guard var state = core.states[name] else { return [] }
            let actions = state.remove(now: now)
            core.states[name] = state
            return actions
        })
    }

    public func readyReplicas(of name: String) -> [ReadyReplica] {
        core.withLock { $0.states[name]?.readyReplicas ?? [] }
    }

    public func views() -> [ServiceView] {
        let now = ContinuousClock.now
        return core.withLock { core in
            core.states.values.filter { $0.spec != nil }.map { $0.view(now: now) }.sorted { $0.name < $1.name }
        }
    }

    /// Runs one state's event and executes its actions.
    func event(_ name: String, _ body: (inout ServiceState) -> [ServiceAction]) {
        perform(name, core.withLock { core -> [ServiceAction] in
            guard var state = core.states[name] else { return [] }
            let actions = body(&state)
            core.states[name] = state
            return actions
        })
    }

    /// Executes a state's actions: engine work goes to the work queue; the
    /// rest is done here.
    func perform(_ name: String, _ actions: [ServiceAction]) {
        var published = false
        for action in actions {
            switch action {
            case .start(let id):
                submit { await self.startReplica(id) }
            case .probe(let id, let container, let address, let port):
                submit { await self.probe(id, container: container, address: address, port: port) }
            case .stop(let id, let container, let grace):
                submit { await self.stopReplica(id, container: container, grace: grace) }
            case .remove(let container):
                submit { await self.removeContainer(container) }
            case .publish:
                published = true
            case .note(let note):
                onNote(note)
            }
        }
        if published {
            // Read and told under the lock: two events' sets reach the gateway in the order they were made.
            core.withLock { core in
                onChange(name, core.states[name]?.spec, core.states[name]?.readyReplicas ?? [])
            }
        }
        doorbell.ring()
    }

    /// Queues engine work; once shutdown began nothing more starts.
    func submit(_ job: @escaping WorkQueue.Job) {
        if !work.submit(job) {
            logger.debug("service work refused: shutting down")
        }
    }
}
