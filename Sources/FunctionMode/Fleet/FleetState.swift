/// The decisions of function mode, as a pure state machine: which environment
/// serves which invocation, when environments start, freeze, thaw and die, and
/// when an invocation is refused. It does no I/O and reads no clock: every
/// input carries `now`, and every decision comes back as `FleetAction`s for the
/// I/O layer to carry out, which then reports what happened as further inputs.
///
/// One fleet holds every function's environments, so the controller-wide limit
/// of environments is kept in the same place as each function's own.
public struct FleetState: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// One environment's life: `starting` until its runtime first asks for
    /// work, then `live` until it is destroyed.
    struct Environment: Sendable {
        enum Freeze: Sendable, Equatable {
            case thawed
            case freezing
            case frozen
            case thawing
        }

        let id: EnvironmentID
        let function: FunctionName
        let initialization: InitializationType
        let startedAt: Instant
        /// When its runtime first asked for work; nil while initialising.
        var readyAt: Instant?
        /// True while the runtime waits on `GET /next`.
        var nextParked = false
        /// The invocation it is handling or about to be given.
        var current: InvocationID?
        /// True once `current` has been handed to the runtime.
        var delivered = false
        var freeze: Freeze = .thawed
        var served = 0
        /// When it last finished work (or became ready): the start of idleness.
        var idleSince: Instant
        var destroying = false

        var isInitialising: Bool { readyAt == nil }
        var isIdle: Bool { !destroying && current == nil && !isInitialising }
    }

    struct Invocation: Sendable {
        let id: InvocationID
        let function: FunctionName
        let arrivedAt: Instant
        var environment: EnvironmentID?
        /// When the function's timeout ends it: set once it is given to an
        /// environment (counted again from delivery), so an invocation whose
        /// runtime never takes it still ends.
        var deadline: Instant?
    }

    struct Pool: Sendable {
        var settings: PoolSettings
        /// Invocations waiting for an environment that is starting, oldest first.
        var pending: [InvocationID] = []
        var environments: Set<EnvironmentID> = []
    }

    /// Most environments the whole controller may run at once.
    public let globalLimit: Int
    /// Slots of the global limit that other runners hold (command containers,
    /// …; see ``Admission``), set by the host before each decision.
    public var slotsHeldElsewhere = 0
    private var pools: [FunctionName: Pool] = [:]
    private var environments: [EnvironmentID: Environment] = [:]
    private var invocations: [InvocationID: Invocation] = [:]
    private var nextEnvironmentNumber = 0
    private let environmentPrefix: String
    private var shuttingDown = false
    /// Set by ``drain()``: new invocations are refused, running ones finish.
    private var draining = false

    /// - Parameters:
    ///   - globalLimit: most environments at once across all functions.
    ///   - environmentPrefix: prefix of generated environment ids (unique per
    ///     controller run, so a restarted controller never reuses an id).
    public init(globalLimit: Int, environmentPrefix: String = "env") {
        self.globalLimit = max(0, globalLimit)
        self.environmentPrefix = environmentPrefix
    }

    // MARK: - Configuration

    /// Adds a function or changes its settings. Returns the environments to
    /// start so that its provisioned concurrency is met.
    public mutating func configure(_ function: FunctionName, _ settings: PoolSettings, now: Instant) -> [FleetAction] {
        if var pool = pools[function] {
            pool.settings = settings
            pools[function] = pool
        } else {
            pools[function] = Pool(settings: settings)
        }
        return topUpProvisioned(function, now: now)
    }

    /// Removes a function: its environments are destroyed and its waiting
    /// invocations fail.
    public mutating func remove(_ function: FunctionName) -> [FleetAction] {
        guard let pool = pools.removeValue(forKey: function) else { return [] }
        var actions: [FleetAction] = []
        for id in pool.pending {
            invocations[id] = nil
            actions.append(.fail(id, .shuttingDown))
        }
        for envID in pool.environments.sorted() {
            if let current = environments[envID]?.current {
                environments[envID]?.current = nil
                invocations[current] = nil
                actions.append(.fail(current, .shuttingDown))
            }
            actions += destroy(envID, .shutdown)
        }
        return actions
    }

    // MARK: - Invocations

    /// A new invocation of `function`. It is delivered to a warm environment,
    /// given to a frozen one (thawed first), made to wait for an environment that
    /// starts for it, or refused.
    public mutating func invoke(_ id: InvocationID, function: FunctionName, now: Instant) -> [FleetAction] {
        guard !shuttingDown, !draining else { return [.fail(id, .shuttingDown)] }
        guard var pool = pools[function] else { return [.reject(id, .unknownFunction)] }
        guard pool.settings.maxEnvironments > 0 else { return [.reject(id, .throttled)] }
        invocations[id] = Invocation(id: id, function: function, arrivedAt: now)

        // 1. A thawed environment whose runtime waits on /next: the most
        //    recently used one, so the others stay idle long enough to be reaped.
        if let envID = pick(in: pool, where: { $0.isIdle && $0.freeze == .thawed && $0.nextParked }) {
            return assign(id, to: envID, now: now)
        }
        // 2. One that has just answered and is about to ask for more.
        if let envID = pick(in: pool, where: { $0.isIdle && $0.freeze == .thawed && !$0.nextParked }) {
            return assign(id, to: envID, now: now)
        }
        // 3. A frozen (or freezing) one: thaw it.
        if let envID = pick(in: pool, where: { $0.isIdle && $0.freeze != .thawed }) {
            return assign(id, to: envID, now: now)
        }
        // 4. Environments already starting that nobody waits for yet.
        let starting = pool.environments.filter { environments[$0].map { $0.isInitialising && !$0.destroying } ?? false }.count
        if pool.pending.count < starting {
            pool.pending.append(id)
            pools[function] = pool
            return []
        }
        // 5. A new environment, if the limits allow. Environments on their way
        //    out (reaped, timed out) no longer count: they take no more work.
        if liveCount(pool) >= pool.settings.maxEnvironments {
            if pool.pending.count - starting < pool.settings.waitingLimit {
                // Always-warm environments: wait for the next one that frees.
                pool.pending.append(id)
                pools[function] = pool
                return []
            }
            invocations[id] = nil
            return [.reject(id, .reservedConcurrencyExceeded(limit: pool.settings.maxEnvironments))]
        }
        if liveEnvironmentCount + slotsHeldElsewhere >= globalLimit {
            invocations[id] = nil
            return [.reject(id, .globalConcurrencyExceeded(limit: globalLimit))]
        }
        pool.pending.append(id)
        pools[function] = pool
        return [startEnvironment(function, .onDemand, now: now)]
    }

    // MARK: - What the runtime says (Runtime API)

    /// The environment's runtime asks for work (`GET /next`). Answered at once
    /// when work waits for it; otherwise the request stays parked.
    public mutating func runtimeRequestedNext(_ envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard var env = environments[envID], !env.destroying else { return [] }
        env.nextParked = true
        if env.readyAt == nil {
            env.readyAt = now
            env.idleSince = now
        }
        environments[envID] = env

        // Work assigned while the runtime was busy or frozen.
        if let current = env.current, !env.delivered {
            if env.freeze == .thawed { return deliver(current, to: envID, now: now) }
            return []
        }
        if env.current != nil { return [] } // a second /next while handling: ignore
        // Work waiting for any environment of this function.
        if var pool = pools[env.function], !pool.pending.isEmpty {
            let id = pool.pending.removeFirst()
            pools[env.function] = pool
            return assign(id, to: envID, now: now)
        }
        return []
    }

    /// The runtime's `GET /next` connection went away without an answer.
    public mutating func runtimeAbandonedNext(_ envID: EnvironmentID) {
        guard var env = environments[envID] else { return }
        env.nextParked = false
        environments[envID] = env
    }

    /// The invocation could not be handed to the runtime: the connection of its
    /// `/next` closed first, or there was none. Lambda treats such a runtime as
    /// gone: the invocation fails (`Runtime.ExitError`) and the environment is
    /// replaced.
    public mutating func deliveryFailed(_ id: InvocationID, in envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard let invocation = invocations[id], invocation.environment == envID,
              let env = environments[envID], env.current == id
        else { return [] }
        invocations[id] = nil
        environments[envID]?.current = nil
        environments[envID]?.delivered = false
        return [.fail(id, .runtimeVanished)] + destroy(envID, .replaced)
    }

    /// The runtime posts a result or an error for `id` (`/response`, `/error`).
    /// Only the environment handling an invocation may end it.
    public mutating func runtimeFinished(_ id: InvocationID, in envID: EnvironmentID, now: Instant) -> RuntimeCallVerdict {
        // Known only once handed to a runtime; then only its environment may end it.
        guard let owner = invocations[id]?.environment, let holder = environments[owner],
              holder.current == id, holder.delivered
        else { return .unknownRequest }
        guard owner == envID, var env = environments[envID] else { return .forbidden }
        invocations[id] = nil
        env.current = nil
        env.delivered = false
        env.nextParked = false
        env.idleSince = now
        environments[envID] = env
        return .accepted
    }

    /// The runtime reports that it could not initialise (`/runtime/init/error`).
    public mutating func runtimeInitFailed(_ envID: EnvironmentID, errorType: String, message: String) -> [FleetAction] {
        guard let env = environments[envID], !env.destroying else { return [] }
        var actions = destroy(envID, .initFailed)
        actions += failOneWaiting(env.function, .initFailed(errorType: errorType, message: message))
        return actions
    }

    // MARK: - What the engine says

    /// The environment's container could not be created or started.
    public mutating func environmentFailedToStart(_ envID: EnvironmentID, message: String) -> [FleetAction] {
        guard let env = environments.removeValue(forKey: envID) else { return [] }
        pools[env.function]?.environments.remove(envID)
        return failOneWaiting(env.function, .environmentUnavailable(message: message))
    }

    /// The environment's container is gone (its process exited, it was killed,
    /// or tandem destroyed it). Its invocation, if it had one, ends here.
    public mutating func environmentExited(_ envID: EnvironmentID, exitCode: Int, outOfMemory: Bool, now: Instant) -> [FleetAction] {
        guard let env = environments.removeValue(forKey: envID) else { return [] }
        pools[env.function]?.environments.remove(envID)
        var actions: [FleetAction] = []
        if let current = env.current {
            if env.delivered {
                invocations[current] = nil
                actions.append(.fail(current, .runtimeExited(exitCode: exitCode, outOfMemory: outOfMemory)))
            } else {
                actions += requeue(current, env.function, now: now)
            }
        }
        if env.isInitialising && !env.destroying {
            actions += failOneWaiting(
                env.function,
                .initFailed(errorType: "Runtime.ExitError", message: "Runtime exited with error: exit status \(exitCode)"))
        }
        if !shuttingDown && !draining { actions += topUpProvisioned(env.function, now: now) }
        return actions
    }

    /// The engine paused the container.
    public mutating func frozen(_ envID: EnvironmentID) -> [FleetAction] {
        guard var env = environments[envID], !env.destroying else { return [] }
        env.freeze = .frozen
        environments[envID] = env
        // Work arrived while the pause was in flight.
        if env.current != nil { return thaw(envID) }
        return []
    }

    /// The engine could not pause the container: it stays thawed.
    public mutating func freezeFailed(_ envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard var env = environments[envID], !env.destroying else { return [] }
        env.freeze = .thawed
        environments[envID] = env
        if let current = env.current, !env.delivered, env.nextParked { return deliver(current, to: envID, now: now) }
        return []
    }

    /// The engine unpaused the container.
    public mutating func thawed(_ envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard var env = environments[envID], !env.destroying else { return [] }
        env.freeze = .thawed
        environments[envID] = env
        if let current = env.current, !env.delivered, env.nextParked { return deliver(current, to: envID, now: now) }
        return []
    }

    /// The engine could not unpause the container: it is replaced.
    public mutating func thawFailed(_ envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard let env = environments[envID], !env.destroying else { return [] }
        var actions = destroy(envID, .replaced)
        if let current = env.current, !env.delivered {
            environments[envID]?.current = nil
            actions += requeue(current, env.function, now: now)
        }
        return actions
    }

    // MARK: - Time

    /// The earliest time at which `tick` has something to do.
    public func nextDeadline() -> Instant? {
        var earliest: Instant?
        func consider(_ instant: Instant) {
            if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        }
        for invocation in invocations.values {
            if let deadline = invocation.deadline { consider(deadline) }
        }
        for env in environments.values where !env.destroying {
            guard let settings = pools[env.function]?.settings else { continue }
            if env.isInitialising {
                consider(env.startedAt + settings.initTimeout)
            } else if env.current == nil {
                if env.freeze == .thawed && env.nextParked { consider(env.idleSince + settings.freezeGrace) }
                if env.initialization == .onDemand { consider(env.idleSince + settings.reapAfter) }
            }
        }
        return earliest
    }

    /// Ends what is due at `now`: timed-out invocations, environments idle long
    /// enough to freeze or to reap, environments that never finished starting.
    public mutating func tick(now: Instant) -> [FleetAction] {
        var actions: [FleetAction] = []
        for invocation in invocations.values.sorted(by: { $0.arrivedAt < $1.arrivedAt }) {
            guard let deadline = invocation.deadline, deadline <= now, let envID = invocation.environment,
                  let settings = pools[invocation.function]?.settings
            else { continue }
            // Delivered or not (its runtime never asked for it), it ends here,
            // and so does the environment that held it.
            invocations[invocation.id] = nil
            if environments[envID]?.current == invocation.id {
                environments[envID]?.current = nil
                environments[envID]?.delivered = false
            }
            actions.append(.fail(invocation.id, .timedOut(after: settings.timeout)))
            actions += destroy(envID, .timedOut)
        }
        for env in environments.values.sorted(by: { $0.id < $1.id }) where !env.destroying {
            guard let settings = pools[env.function]?.settings else { continue }
            if env.isInitialising {
                if env.startedAt + settings.initTimeout <= now {
                    actions += destroy(env.id, .initTimedOut)
                    actions += failOneWaiting(
                        env.function,
                        .initFailed(errorType: "Runtime.InitError", message: "init did not finish within \(settings.initTimeout.formattedSeconds) seconds"))
                }
                continue
            }
            guard env.current == nil else { continue }
            if env.initialization == .onDemand && env.idleSince + settings.reapAfter <= now {
                actions += destroy(env.id, .idle)
            } else if env.freeze == .thawed && env.nextParked && env.idleSince + settings.freezeGrace <= now {
                environments[env.id]?.freeze = .freezing
                actions.append(.freeze(env.id))
            }
        }
        return actions
    }

    /// Begins a graceful stop: new invocations fail (`shuttingDown`), the ones
    /// already accepted go on; ``shutdown()`` ends whatever is left.
    public mutating func drain() {
        draining = true
    }

    /// True once no accepted invocation is left (waiting or running).
    public var isIdle: Bool { invocations.isEmpty }

    /// Stops everything: waiting invocations fail, environments are destroyed.
    public mutating func shutdown() -> [FleetAction] {
        shuttingDown = true
        var actions: [FleetAction] = []
        for function in pools.keys.sorted() { actions += remove(function) }
        for invocation in invocations.values.sorted(by: { $0.arrivedAt < $1.arrivedAt }) {
            actions.append(.fail(invocation.id, .shuttingDown))
        }
        invocations = [:]
        return actions
    }

    // MARK: - Views

    /// A read-only view of one environment, for `ps` and tests.
    public struct EnvironmentView: Sendable, Equatable {
        public enum Phase: String, Sendable { case initialising, idle, busy, frozen, stopping }
        public let id: EnvironmentID
        public let function: FunctionName
        public let phase: Phase
        public let initialization: InitializationType
        public let invocationsServed: Int
    }

    public var environmentViews: [EnvironmentView] {
        environments.values.sorted(by: { $0.id < $1.id }).map { env in
            let phase: EnvironmentView.Phase =
                env.destroying ? .stopping
                : env.isInitialising ? .initialising
                : env.current != nil ? .busy
                : env.freeze == .frozen ? .frozen
                : .idle
            return EnvironmentView(id: env.id, function: env.function, phase: phase,
                                   initialization: env.initialization, invocationsServed: env.served)
        }
    }

    public var environmentCount: Int { environments.count }

    public func pendingCount(_ function: FunctionName) -> Int { pools[function]?.pending.count ?? 0 }

    // MARK: - Internals

    /// Environments of a pool that can still take work.
    private func liveCount(_ pool: Pool) -> Int {
        pool.environments.reduce(0) { count, id in count + (environments[id].map { $0.destroying ? 0 : 1 } ?? 0) }
    }

    /// Environments that can still take work (those on their way out do not count).
    public var liveEnvironments: Int { liveEnvironmentCount }

    private var liveEnvironmentCount: Int {
        environments.values.reduce(0) { $0 + ($1.destroying ? 0 : 1) }
    }

    private func pick(in pool: Pool, where predicate: (Environment) -> Bool) -> EnvironmentID? {
        var best: Environment?
        for envID in pool.environments {
            guard let env = environments[envID], predicate(env) else { continue }
            if let current = best {
                // Most recently used first; ties by id for determinism.
                if env.idleSince > current.idleSince || (env.idleSince == current.idleSince && env.id < current.id) {
                    best = env
                }
            } else {
                best = env
            }
        }
        return best?.id
    }

    private mutating func assign(_ id: InvocationID, to envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard var env = environments[envID] else { return [] }
        env.current = id
        env.delivered = false
        environments[envID] = env
        invocations[id]?.environment = envID
        if let timeout = pools[env.function]?.settings.timeout { invocations[id]?.deadline = now + timeout }
        switch env.freeze {
        case .thawed:
            return env.nextParked ? deliver(id, to: envID, now: now) : []
        case .frozen:
            return thaw(envID)
        case .freezing, .thawing:
            return [] // `frozen` or `thawed` follows and delivers
        }
    }

    private mutating func thaw(_ envID: EnvironmentID) -> [FleetAction] {
        environments[envID]?.freeze = .thawing
        return [.thaw(envID)]
    }

    private mutating func deliver(_ id: InvocationID, to envID: EnvironmentID, now: Instant) -> [FleetAction] {
        guard var env = environments[envID], var invocation = invocations[id],
              let settings = pools[env.function]?.settings
        else { return [] }
        // A provisioned environment initialised ahead of time: its first
        // invocation is not a cold start (Lambda reports no Init Duration).
        let cold = env.served == 0 && env.initialization == .onDemand
        env.delivered = true
        env.nextParked = false
        env.served += 1
        environments[envID] = env
        invocation.environment = envID
        invocation.deadline = now + settings.timeout
        invocations[id] = invocation
        let initDuration = cold ? env.readyAt.map { $0 - env.startedAt } : nil
        return [.deliver(id, to: envID, cold: cold, initDuration: initDuration)]
    }

    private mutating func startEnvironment(_ function: FunctionName, _ type: InitializationType, now: Instant) -> FleetAction {
        nextEnvironmentNumber += 1
        let envID = EnvironmentID("\(environmentPrefix)-\(nextEnvironmentNumber)")
        environments[envID] = Environment(id: envID, function: function, initialization: type, startedAt: now, idleSince: now)
        pools[function]?.environments.insert(envID)
        return .startEnvironment(function, envID, type)
    }

    private mutating func destroy(_ envID: EnvironmentID, _ reason: DestroyReason) -> [FleetAction] {
        guard var env = environments[envID], !env.destroying else { return [] }
        env.destroying = true
        env.nextParked = false
        environments[envID] = env
        return [.destroy(envID, reason)]
    }

    /// Puts an invocation that was assigned but never delivered back at the
    /// head of its function's queue and finds it an environment.
    private mutating func requeue(_ id: InvocationID, _ function: FunctionName, now: Instant) -> [FleetAction] {
        guard invocations[id] != nil else { return [] }
        invocations[id] = nil
        let actions = invoke(id, function: function, now: now)
        // `invoke` appends to the back; move it to the front if it waits.
        if var pool = pools[function], let index = pool.pending.firstIndex(of: id), index != 0 {
            pool.pending.remove(at: index)
            pool.pending.insert(id, at: 0)
            pools[function] = pool
        }
        return actions
    }

    /// When an environment that was starting is lost, one waiting invocation
    /// fails — but only if fewer environments are now starting than invocations
    /// wait, so each failed start costs exactly one caller.
    private mutating func failOneWaiting(_ function: FunctionName, _ failure: InvocationFailure) -> [FleetAction] {
        guard var pool = pools[function], !pool.pending.isEmpty else { return [] }
        let starting = pool.environments.filter { environments[$0].map { $0.isInitialising && !$0.destroying } ?? false }.count
        guard pool.pending.count > starting else { return [] }
        let id = pool.pending.removeFirst()
        pools[function] = pool
        invocations[id] = nil
        return [.fail(id, failure)]
    }

    private mutating func topUpProvisioned(_ function: FunctionName, now: Instant) -> [FleetAction] {
        guard let pool = pools[function], !shuttingDown else { return [] }
        let alive = pool.environments.filter { envID in
            guard let env = environments[envID] else { return false }
            return env.initialization == .provisioned && !env.destroying
        }.count
        var actions: [FleetAction] = []
        var missing = pool.settings.provisioned - alive
        while missing > 0, pools[function].map(liveCount) ?? 0 < pool.settings.maxEnvironments,
              liveEnvironmentCount + slotsHeldElsewhere < globalLimit {
            actions.append(startEnvironment(function, .provisioned, now: now))
            missing -= 1
        }
        return actions
    }
}

extension Duration {
    /// Seconds with two decimals, as Lambda prints them (`3.00`).
    public var formattedSeconds: String {
        let (seconds, attoseconds) = components
        let hundredths = (Double(seconds) + Double(attoseconds) / 1e18) * 100
        let rounded = Int((hundredths).rounded())
        let whole = rounded / 100
        let fraction = rounded % 100
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
