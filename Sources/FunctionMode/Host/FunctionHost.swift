import Engine
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Runs functions: carries out the decisions of ``FleetState`` with the engine
/// (containers) and the Runtime API server (one endpoint per environment), and
/// feeds back what happened. Invocations come in through ``invoke(_:payload:clientContext:)``.
///
/// Its parts, by job: this file (state, functions, carrying out decisions),
/// `+Invoke` (the invoke paths), `+Environments` (start, watch, freeze, thaw,
/// destroy, remove), `+Delivery` (handing invocations over, settling them),
/// `+RuntimeAPI` (what each runtime reports), `+Lifecycle` (timers, drain, shutdown).
public final class FunctionHost: Sendable {
    struct Call: Sendable {
        let function: String
        let payload: ByteBuffer
        /// For an http function: the request to forward.
        var request: ForwardedRequest?
        var response: ForwardedResponse?
        let clientContext: String?
        let arrivedAt: ContinuousClock.Instant
        /// The function's memory size, for the result.
        let memorySizeMiB: Int
        /// Called once with the outcome, from whichever thread settles it.
        let completion: @Sendable (InvocationResult) -> Void
        var deliveredAt: ContinuousClock.Instant?
        var environment: EnvironmentID?
        var initDuration: Duration?
    }

    struct Environment: Sendable {
        let function: String
        var endpoint: RuntimeEndpoint?
        /// For an http function: the connection to its server, once it answers.
        var server: ServerConnection?
        var containerID: String?
        /// The runtime's parked `GET /next` requests, oldest first (a runtime
        /// normally has one; other processes of the function may park more).
        var waiters: [NextWaiter] = []
        var paused = false
        /// Set when the fleet destroys it before its container exists.
        var destroyRequested = false
        /// Set when tandem kills the container itself: its exit is no OOM kill.
        var killed = false
    }

    struct Core: Sendable {
        var fleet: FleetState
        var definitions: [String: FunctionDefinition] = [:]
        var calls: [InvocationID: Call] = [:]
        var environments: [EnvironmentID: Environment] = [:]
        /// Set by ``FunctionHost/drain(within:)``: when the timer loop stops
        /// waiting for accepted invocations and shuts down.
        var drainDeadline: ContinuousClock.Instant?
        /// Set by ``FunctionHost/shutdown()``: no container starts after it.
        var stopped = false
        /// Set when the timer loop is to end (``FunctionHost/run()`` cancelled, or shut down).
        var timersStopped = false
    }

    public let engine: EngineClient
    public let settings: FunctionHostSettings
    let runtimeHost: String
    let group: any EventLoopGroup
    let logger: Logger
    let core: Mutex<Core>
    /// The soonest a new deadline can fall after a change, in nanoseconds (see `wake`).
    let shortestDeadline = Atomic<Int64>(50_000_000)
    let doorbell = Doorbell()
    let server = NIOLockedValueBox<RuntimeAPIServer?>(nil)
    let logBook: InvocationLogBook
    /// The engine work the host starts (starts, freezes, thaws, destroys,
    /// watchers, output streams): run by ``run()``, which owns it. The hot
    /// path (delivering, failing, rejecting) never goes through it.
    let work = WorkQueue()
    /// The machine-wide limit, shared with the other runners.
    public let admission: Admission

    /// - Parameters:
    ///   - runtimeHost: the address environments reach the controller at (the
    ///     bridge network's gateway, from ``EngineClient`` network inspect).
    public init(engine: EngineClient, runtimeHost: String, group: any EventLoopGroup,
                settings: FunctionHostSettings = FunctionHostSettings(),
                observer: (any FunctionHostObserver)? = nil,
                admission: Admission? = nil,
                logger: Logger = Logger(label: "tandem.function")) {
        self.admission = admission ?? Admission(limit: settings.globalConcurrency)
        self.logBook = InvocationLogBook(observer: observer)
        self.engine = engine
        self.settings = settings
        self.runtimeHost = runtimeHost
        self.group = group
        self.logger = logger
        let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.core = Mutex(Core(fleet: FleetState(globalLimit: settings.globalConcurrency, environmentPrefix: prefix)))
    }

    var runtimeServer: RuntimeAPIServer {
        server.withLockedValue { existing in
            if let existing { return existing }
            let created = RuntimeAPIServer(group: group, host: runtimeHost, delegate: self)
            existing = created
            return created
        }
    }

    /// Adds or updates a function. Provisioned environments start at once.
    public func deploy(_ definition: FunctionDefinition) {
        let actions = core.withLock { core in
            core.definitions[definition.name] = definition
            let shortest = min(
                settings.freezeGrace, settings.initTimeout,
                core.definitions.values.map(\.timeout).min() ?? settings.freezeGrace)
            shortestDeadline.store(Self.nanoseconds(shortest), ordering: .relaxed)
            core.fleet.slotsHeldElsewhere = admission.held(byOthersThan: .functionEnvironments)
            let actions = core.fleet.configure(definition.name, settings.poolSettings(for: definition), now: .now)
            admission.setHeld(core.fleet.liveEnvironments, by: .functionEnvironments)
            return actions
        }
        perform(actions)
    }

    /// Removes a function: its environments are destroyed.
    public func undeploy(_ name: String) {
        let actions = core.withLock { core in
            core.definitions[name] = nil
            return core.fleet.remove(name)
        }
        perform(actions)
    }

    public func definition(_ name: String) -> FunctionDefinition? {
        core.withLock { $0.definitions[name] }
    }

    public var environmentViews: [FleetState.EnvironmentView] {
        core.withLock { $0.fleet.environmentViews }
    }

    /// The Runtime API address (`host:port`) of an environment.
    public func runtimeAPIAddress(of env: EnvironmentID) -> String? {
        core.withLock { $0.environments[env]?.endpoint?.address }
    }

    /// The invocation an environment is handling now, if any.
    public func currentInvocation(of env: EnvironmentID) -> InvocationID? {
        core.withLock { core in
            core.calls.first { $0.value.environment == env && $0.value.deliveredAt != nil }?.key
        }
    }

    /// The container of an environment, once it exists.
    public func containerID(of env: EnvironmentID) -> String? {
        core.withLock { $0.environments[env]?.containerID }
    }

    func perform(_ actions: [FleetAction]) {
        guard !actions.isEmpty else { return }
        for action in actions {
            switch action {
            case .startEnvironment(let function, let env, let type):
                work.submit { await self.start(function, env, type) }
            case .deliver(let id, let env, let cold, let initDuration):
                deliver(id, to: env, cold: cold, initDuration: initDuration)
            case .freeze(let env):
                work.submit { await self.freeze(env) }
            case .thaw(let env):
                work.submit { await self.thaw(env) }
            case .destroy(let env, let reason):
                work.submit { await self.destroy(env, reason) }
            case .fail(let id, let failure):
                finish(id, .failed(failure), finishedAt: .now)
            case .reject(let id, let rejection):
                finish(id, .rejected(rejection), finishedAt: .now)
            }
        }
        wake()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    static func logStreamDate() -> String {
        let date = Date()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d/%02d/%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }
}

extension FunctionHost.Environment {
    /// The newest parked `/next` whose connection is still open, taken out: a
    /// runtime's loop parks again after every answer, so the newest is the
    /// runtime's own; an older one is a stray (a process of the function that
    /// asked for work too, or a connection about to time out).
    mutating func takeWaiter() -> NextWaiter? {
        while let waiter = waiters.popLast() {
            if waiter.isWaiting { return waiter }
        }
        return nil
    }
}

extension Duration {
    /// Whole milliseconds, rounded up.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
