import Engine
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Runs functions: carries out the decisions of ``FleetState`` with the engine
/// (containers) and the Runtime API server (one endpoint per environment), and
/// feeds back what happened. Invocations come in through ``invoke(_:payload:clientContext:)``.
public final class FunctionHost: RuntimeAPIDelegate, Sendable {
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
        /// Environment starts in progress (between create and start).
        var starting = 0
    }

    public let engine: EngineClient
    public let settings: FunctionHostSettings
    private let runtimeHost: String
    private let group: any EventLoopGroup
    private let logger: Logger
    private let core: Mutex<Core>
    /// The soonest a new deadline can fall after a change, in nanoseconds (see `wake`).
    private let shortestDeadline = Atomic<Int64>(50_000_000)
    private let doorbell = Doorbell()
    private let server = NIOLockedValueBox<RuntimeAPIServer?>(nil)
    private let logBook: InvocationLogBook

    /// - Parameters:
    ///   - runtimeHost: the address environments reach the controller at (the
    ///     bridge network's gateway, from ``EngineClient`` network inspect).
    public init(engine: EngineClient, runtimeHost: String, group: any EventLoopGroup,
                settings: FunctionHostSettings = FunctionHostSettings(),
                observer: (any FunctionHostObserver)? = nil,
                logger: Logger = Logger(label: "tandem.function")) {
        self.logBook = InvocationLogBook(observer: observer)
        self.engine = engine
        self.settings = settings
        self.runtimeHost = runtimeHost
        self.group = group
        self.logger = logger
        let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.core = Mutex(Core(fleet: FleetState(globalLimit: settings.globalConcurrency, environmentPrefix: prefix)))
    }

    private var runtimeServer: RuntimeAPIServer {
        server.withLockedValue { existing in
            if let existing { return existing }
            let created = RuntimeAPIServer(group: group, host: runtimeHost, delegate: self)
            existing = created
            return created
        }
    }

    // MARK: - Functions

    /// Adds or updates a function. Provisioned environments start at once.
    public func deploy(_ definition: FunctionDefinition) {
        let actions = core.withLock { core in
            core.definitions[definition.name] = definition
            let shortest = min(
                settings.freezeGrace, settings.initTimeout,
                core.definitions.values.map(\.timeout).min() ?? settings.freezeGrace)
            shortestDeadline.store(Self.nanoseconds(shortest), ordering: .relaxed)
            return core.fleet.configure(definition.name, settings.poolSettings(for: definition), now: .now)
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

    // MARK: - Invoking

    /// Invokes a function and waits for its outcome. Never throws: every way an
    /// invocation can end is an ``InvocationOutcome``.
    /// - Parameter includeLog: wait for the invocation's log (START … REPORT)
    ///   and return it in ``InvocationResult/log`` (for `X-Amz-Log-Type: Tail`).
    /// - Parameter requestID: the invocation's request id; a fresh UUID when nil
    ///   (an asynchronous event keeps its id across retries, as in Lambda).
    /// - Parameter claimReport: return the invocation's report in
    ///   ``InvocationResult/report`` instead of handing it to the observer (the
    ///   caller records it itself, e.g. with an event's completion).
    public func invoke(
        _ function: String, payload: ByteBuffer, clientContext: String? = nil, includeLog: Bool = false,
        requestID: InvocationID? = nil, claimReport: Bool = false
    ) async -> InvocationResult {
        await invoke(function, payload: payload, request: nil, clientContext: clientContext, includeLog: includeLog,
                     requestID: requestID, claimReport: claimReport)
    }

    /// Invokes a function and calls `completion` once with its outcome, from
    /// whichever thread settles it (often the Runtime API's event loop): the
    /// path with no task hops, for callers that live on an event loop. The
    /// result carries no log (``invoke(_:payload:clientContext:includeLog:requestID:)``
    /// waits for it when asked).
    public func invoke(
        _ function: String, payload: ByteBuffer, clientContext: String? = nil, requestID: InvocationID? = nil,
        completion: @escaping @Sendable (InvocationResult) -> Void
    ) {
        start(function, payload: payload, request: nil, clientContext: clientContext, requestID: requestID,
              completion: completion)
    }

    private func invoke(
        _ function: String, payload: ByteBuffer, request: ForwardedRequest?, clientContext: String?, includeLog: Bool,
        requestID: InvocationID? = nil, claimReport: Bool = false
    ) async -> InvocationResult {
        // The claim comes first: the report must never reach the observer.
        let claimed = claimReport ? requestID ?? InvocationID(Identifiers.requestID()) : requestID
        if claimReport, let claimed { logBook.claimReport(claimed) }
        var result = await withCheckedContinuation { continuation in
            start(function, payload: payload, request: request, clientContext: clientContext, requestID: claimed) {
                continuation.resume(returning: $0)
            }
        }
        if includeLog, result.environment != nil {
            result.log = await logBook.log(of: result.requestID)
        }
        if claimReport, let claimed {
            // (An id already in flight was replaced by a fresh one, whose report went on as usual.)
            let report = await logBook.report(of: claimed)
            result.report = result.requestID == claimed ? report : nil
        }
        return result
    }

    private func start(
        _ function: String, payload: ByteBuffer, request: ForwardedRequest?, clientContext: String?,
        requestID: InvocationID?, completion: @escaping @Sendable (InvocationResult) -> Void
    ) {
        let arrivedAt = ContinuousClock.Instant.now
        var id = requestID ?? InvocationID(Identifiers.requestID())
        let (contract, memory) = core.withLock { core in
            (core.definitions[function]?.contract, core.definitions[function]?.memoryMiB ?? 0)
        }
        var request = request
        var completion = completion
        // An http function invoked with an event gets the request the event
        // describes, and answers with the event's result.
        if request == nil, case .http = contract {
            request = HTTPEventBridge.request(fromEvent: Array(payload.readableBytesView))
            let answer = completion
            completion = { result in
                var result = result
                if let response = result.httpResponse {
                    result.outcome = .response(ByteBuffer(bytes: HTTPEventBridge.eventResult(from: response)))
                }
                answer(result)
            }
        }
        let actions = core.withLock { core -> [FleetAction] in
            // A caller's request id (an event's, kept across retries) can be in flight only once.
            if requestID != nil, core.calls[id] != nil { id = InvocationID(Identifiers.requestID()) }
            core.calls[id] = Call(function: function, payload: payload, request: request, clientContext: clientContext,
                                  arrivedAt: arrivedAt, memorySizeMiB: memory, completion: completion)
            return core.fleet.invoke(id, function: function, now: arrivedAt)
        }
        perform(actions)
    }

    /// Sends an HTTP request to an http-contract function (started on demand,
    /// frozen between requests, reaped when idle like any function). Its
    /// answer is in ``InvocationResult/httpResponse``.
    public func invoke(_ function: String, request: ForwardedRequest,
                       completion: @escaping @Sendable (InvocationResult) -> Void) {
        start(function, payload: ByteBuffer(bytes: request.body), request: request, clientContext: nil, requestID: nil,
              completion: completion)
    }

    /// Sends `request` to `function` if it is an http-contract function (the
    /// request is built only then) and returns true; false for any other.
    public func forward(_ function: String, request: () -> ForwardedRequest,
                        completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        guard case .http = definition(function)?.contract else { return false }
        invoke(function, request: request(), completion: completion)
        return true
    }

    /// Sends an HTTP request to an http-contract function and waits for its answer
    /// (see ``invoke(_:request:completion:)``).
    public func invoke(_ function: String, request: ForwardedRequest, includeLog: Bool = false) async -> InvocationResult {
        await invoke(function, payload: ByteBuffer(bytes: request.body), request: request, clientContext: nil,
                     includeLog: includeLog)
    }

    // MARK: - Time

    /// Runs the timers (timeouts, freezing, reaping) until cancelled, or until a
    /// drain (``drain(within:)``) is over; then shuts every environment down.
    public func run() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let (deadline, drained) = core.withLock { core in
                (core.fleet.nextDeadline(), core.drainDeadline.map { $0 <= clock.now || core.calls.isEmpty })
            }
            if drained == true { break }
            if drained == false {
                // Draining: look again soon whether the last invocation ended.
                let now = clock.now
                if let deadline, deadline <= now { perform(core.withLock { $0.fleet.tick(now: now) }) }
                await doorbell.wait(upTo: .milliseconds(20))
                continue
            }
            let now = clock.now
            if let deadline, deadline <= now {
                let actions = core.withLock { $0.fleet.tick(now: now) }
                perform(actions)
                continue
            }
            await doorbell.wait(upTo: min(deadline.map { $0 - now } ?? .seconds(1), .seconds(1)))
        }
        // This task is cancelled, and so would be every engine call made from
        // it: shut down from a fresh task and wait for it.
        await Task { await self.shutdown() }.value
    }

    /// Begins a graceful stop: new invocations fail at once (`Runtime.ShuttingDown`),
    /// accepted ones go on for up to `within` (each still bounded by its own
    /// timeout); then ``run()`` ends and every environment is removed.
    public func drain(within: Duration) {
        core.withLock { core in
            core.fleet.drain()
            let deadline = ContinuousClock.now + within
            core.drainDeadline = min(core.drainDeadline ?? deadline, deadline)
        }
        doorbell.ring(ifSleepingPast: .now)
    }

    /// Destroys every environment and fails waiting invocations. No container
    /// starts after it begins; a start in progress removes its own container.
    /// Safe to call more than once.
    public func shutdown() async {
        let (actions, containers, endpoints) = core.withLock { core in
            core.stopped = true
            let actions = core.fleet.shutdown()
            for env in core.environments.keys { core.environments[env]?.destroyRequested = true }
            let containers = core.environments.values.compactMap { env in env.containerID.map { ($0, env.paused) } }
            let endpoints = core.environments.values.compactMap(\.endpoint)
            return (actions, containers, endpoints)
        }
        for action in actions {
            if case .fail = action { perform([action]) }
        }
        await withTaskGroup(of: Void.self) { group in
            for (id, paused) in containers {
                group.addTask { await self.removeContainer(id, paused: paused) }
            }
        }
        for endpoint in endpoints { await endpoint.close() }
        // Starts caught between create and start remove their own container.
        let giveUp = ContinuousClock.now + .seconds(15)
        while core.withLock({ $0.starting > 0 }), ContinuousClock.now < giveUp {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Tells the timer loop that something changed. A change can make something
    /// due no sooner than the shortest of the freeze grace, the init timeout and
    /// any function's timeout; the loop is woken only if it sleeps past that.
    private func wake() {
        let gap = Duration.nanoseconds(shortestDeadline.load(ordering: .relaxed))
        doorbell.ring(ifSleepingPast: .now + gap)
    }

    // MARK: - Carrying out decisions

    func perform(_ actions: [FleetAction]) {
        guard !actions.isEmpty else { return }
        for action in actions {
            switch action {
            case .startEnvironment(let function, let env, let type):
                Task { await self.start(function, env, type) }
            case .deliver(let id, let env, let cold, let initDuration):
                deliver(id, to: env, cold: cold, initDuration: initDuration)
            case .freeze(let env):
                Task { await self.freeze(env) }
            case .thaw(let env):
                Task { await self.thaw(env) }
            case .destroy(let env, let reason):
                Task { await self.destroy(env, reason) }
            case .fail(let id, let failure):
                finish(id, .failed(failure), finishedAt: .now)
            case .reject(let id, let rejection):
                finish(id, .rejected(rejection), finishedAt: .now)
            }
        }
        wake()
    }

    private func start(_ function: String, _ env: EnvironmentID, _ type: InitializationType) async {
        guard let definition = definition(function) else {
            let actions = core.withLock { $0.fleet.environmentFailedToStart(env, message: "function \(function) was removed") }
            return perform(actions)
        }
        let admitted = core.withLock { core -> Bool in
            guard !core.stopped else { return false }
            core.environments[env] = Environment(function: function)
            core.starting += 1
            return true
        }
        guard admitted else {
            return perform(core.withLock { $0.fleet.environmentFailedToStart(env, message: "tandem is shutting down") })
        }
        defer { core.withLock { $0.starting -= 1 } }
        do {
            var runtimeAPI = ""
            if definition.contract == .lambda {
                let endpoint = try await runtimeServer.openEndpoint(for: env, gate: PeerGate())
                core.withLock { $0.environments[env]?.endpoint = endpoint }
                runtimeAPI = endpoint.address
            }
            let spec = EnvironmentContainer.spec(
                definition, runtimeAPI: runtimeAPI, environment: env, initialization: type,
                settings: settings, date: Self.logStreamDate())
            let created = try await engine.createContainer(spec, name: "tandem-\(function)-\(env.rawValue)")
            let destroyEarly = core.withLock { core -> Bool in
                core.environments[env]?.containerID = created.id
                return core.stopped || (core.environments[env]?.destroyRequested ?? true)
            }
            // Watch for the container's end before starting it, so no exit is missed.
            let exit = Task { try await self.engine.waitContainer(created.id, condition: .nextExit) }
            if destroyEarly {
                exit.cancel()
                await removeContainer(created.id, paused: false)
                return environmentGone(env, exitCode: 137, outOfMemory: false)
            }
            try await engine.startContainer(created.id)
            if let gate = core.withLock({ $0.environments[env]?.endpoint?.gate }) {
                // Only this container may talk to its Runtime API: its address
                // is known now (its runtime's connections wait until then).
                guard let address = try await engine.inspectContainer(created.id).ipAddress() else {
                    throw RuntimeAPIServerError(message: "the environment's container has no network address")
                }
                gate.admit(address)
            }
            Task { await self.watch(env, containerID: created.id, exit: exit) }
            Task { await self.followOutput(env, function: function, containerID: created.id) }
            Task { await self.followMemory(env, containerID: created.id) }
            if case .http(let port) = definition.contract {
                Task { await self.awaitServer(env, containerID: created.id, port: port) }
            }
        } catch {
            logger.warning("environment failed to start", metadata: ["function": "\(function)", "env": "\(env)", "error": "\(error)"])
            let (containerID, endpoint) = core.withLock { core in
                (core.environments[env]?.containerID, core.environments.removeValue(forKey: env)?.endpoint)
            }
            if let containerID { await removeContainer(containerID, paused: false) }
            await endpoint?.close()
            let actions = core.withLock { $0.fleet.environmentFailedToStart(env, message: "\(error)") }
            perform(actions)
        }
    }

    private func watch(_ env: EnvironmentID, containerID: String, exit: Task<ContainerWaitResponse, any Error>) async {
        var exitCode = 137
        if let result = try? await exit.value { exitCode = result.statusCode }
        // A container tandem killed did not die of memory; any other SIGKILL
        // may be the kernel's OOM killer, which the engine can report late.
        let killedByTandem = core.withLock { $0.environments[env]?.killed ?? false }
        let outOfMemory = killedByTandem ? false : (try? await engine.inspectExited(containerID).state.oomKilled) ?? false
        await removeContainer(containerID, paused: false)
        environmentGone(env, exitCode: exitCode, outOfMemory: outOfMemory)
    }

    /// Waits until an http function's server answers on its port, then
    /// offers the environment work (as a runtime's first `/next` would).
    private func awaitServer(_ env: EnvironmentID, containerID: String, port: Int) async {
        guard let address = try? await engine.inspectContainer(containerID).ipAddress(),
              let probe = try? CurlHTTPClient(endpoint: .tcp(baseURL: "http://\(address):\(port)"), connectTimeout: .milliseconds(200))
        else { return }
        let deadline = ContinuousClock.now + settings.initTimeout
        while ContinuousClock.now < deadline {
            guard core.withLock({ $0.environments[env].map { !$0.destroyRequested } ?? false }) else { return }
            // Any HTTP answer means the server listens; a refused or reset
            // connection means not yet.
            if (try? await probe.execute(HTTPRequest(method: "GET", path: "/", timeout: .seconds(1)))) != nil {
                let server = ServerConnection(group: group, host: address, port: port)
                let actions = core.withLock { core -> [FleetAction] in
                    guard core.environments[env] != nil else { return [] }
                    core.environments[env]?.server = server
                    return core.fleet.runtimeRequestedNext(env, now: .now)
                }
                perform(actions)
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends an invocation's request to an http function and takes its answer
    /// (on an event loop, with no task in between).
    private func forward(_ id: InvocationID, request: ForwardedRequest, to server: ServerConnection, env: EnvironmentID) {
        server.send(request) { answer in
            let outcome: InvocationOutcome
            var response: ForwardedResponse?
            switch answer {
            case .success(let received):
                response = received
                outcome = .response(ByteBuffer(bytes: received.body))
            case .failure(let error):
                // The server dropped the request: the function failed it. (A timeout
                // or a crash ends the invocation first, through the fleet.)
                outcome = .functionError(RuntimeErrorReport(
                    errorType: "Runtime.HTTPError", errorMessage: "the function's server did not answer: \(error)", body: []))
            }
            let now = ContinuousClock.Instant.now
            let (verdict, actions) = self.core.withLock { core -> (RuntimeCallVerdict, [FleetAction]) in
                let verdict = core.fleet.runtimeFinished(id, in: env, now: now)
                guard verdict == .accepted else { return (verdict, []) }
                core.calls[id]?.response = response
                // The server is ready for the next request at once.
                return (verdict, core.fleet.runtimeRequestedNext(env, now: now))
            }
            if verdict == .accepted { self.finish(id, outcome, finishedAt: now) }
            self.perform(actions)
            self.wake() // the freeze grace starts now
        }
    }

    /// The environment's output, line by line, into its invocations' logs.
    private func followOutput(_ env: EnvironmentID, function: String, containerID: String) async {
        do {
            for try await chunk in try await engine.containerLogs(containerID, options: LogsOptions(follow: true, tty: false)) {
                logBook.output(env, function: function, chunk.bytes)
            }
        } catch {
            logger.debug("output stream ended", metadata: ["env": "\(env)", "error": "\(error)"])
        }
    }

    /// The environment's peak memory, for REPORT's Max Memory Used.
    private func followMemory(_ env: EnvironmentID, containerID: String) async {
        do {
            for try await sample in try await engine.containerStatsStream(containerID) {
                if let peak = sample.memoryStats?.maxUsage ?? sample.memoryStats?.usage, peak > 0 {
                    logBook.memory(env, maxUsageBytes: peak)
                }
            }
        } catch {
            logger.debug("stats stream ended", metadata: ["env": "\(env)", "error": "\(error)"])
        }
    }

    private func environmentGone(_ env: EnvironmentID, exitCode: Int, outOfMemory: Bool) {
        if let function = core.withLock({ $0.environments[env]?.function }) {
            logBook.environmentGone(env, function: function)
        }
        let (actions, removed) = core.withLock { core in
            let removed = core.environments.removeValue(forKey: env)
            return (core.fleet.environmentExited(env, exitCode: exitCode, outOfMemory: outOfMemory, now: .now), removed)
        }
        removed?.server?.close()
        if let endpoint = removed?.endpoint { Task { await endpoint.close() } }
        perform(actions)
    }

    private func deliver(_ id: InvocationID, to env: EnvironmentID, cold: Bool, initDuration: Duration?) {
        let now = ContinuousClock.Instant.now
        if let (server, request, definition) = core.withLock({ core -> (ServerConnection, ForwardedRequest, FunctionDefinition)? in
            guard var call = core.calls[id], let server = core.environments[env]?.server,
                  let request = call.request, let definition = core.definitions[call.function]
            else { return nil }
            call.deliveredAt = now
            call.environment = env
            call.initDuration = cold ? initDuration : nil
            core.calls[id] = call
            return (server, request, definition)
        }) {
            logBook.delivered(id, env: env, function: definition.name, memorySizeMiB: definition.memoryMiB,
                              initDuration: cold ? initDuration : nil)
            forward(id, request: request, to: server, env: env)
            return
        }
        let prepared = core.withLock { core -> (NextWaiter, NextEvent, FunctionDefinition)? in
            guard var call = core.calls[id], let definition = core.definitions[call.function],
                  let waiter = core.environments[env]?.takeWaiter()
            else { return nil }
            call.deliveredAt = now
            call.environment = env
            call.initDuration = cold ? initDuration : nil
            core.calls[id] = call
            let epoch = Date().timeIntervalSince1970
            let deadline = Int64((epoch * 1000).rounded()) + definition.timeout.milliseconds
            let event = NextEvent(
                requestID: id.rawValue, deadlineEpochMilliseconds: deadline,
                functionArn: definition.arn(region: settings.region, account: settings.account),
                traceID: Identifiers.traceHeader(epochSeconds: UInt64(epoch)), clientContext: call.clientContext, payload: call.payload)
            return (waiter, event, definition)
        }
        guard let (waiter, event, definition) = prepared else {
            // Its `/next` connection closed just before: the runtime is gone.
            return deliveryFailed(id, env: env)
        }
        // The log opens before the event is handed over: a runtime can answer
        // before this thread runs again, and the answer must find its log.
        logBook.delivered(id, env: env, function: definition.name, memorySizeMiB: definition.memoryMiB,
                          initDuration: cold ? initDuration : nil)
        let delivered = waiter.deliver(event) { [weak self] in
            // The connection closed while the event was being written.
            self?.deliveryFailed(id, env: env)
        }
        if !delivered { deliveryFailed(id, env: env) }
    }

    /// An invocation could not be handed to its environment's runtime.
    private func deliveryFailed(_ id: InvocationID, env: EnvironmentID) {
        logger.warning("the runtime's connection closed before it took the invocation; replacing the environment",
                       metadata: ["env": "\(env)", "request": "\(id)"])
        perform(core.withLock { $0.fleet.deliveryFailed(id, in: env, now: .now) })
    }

    private func freeze(_ env: EnvironmentID) async {
        guard let containerID = containerID(of: env) else {
            return perform(core.withLock { $0.fleet.freezeFailed(env, now: .now) })
        }
        let paused = await retrying { try await self.engine.pauseContainer(containerID) }
        let actions = core.withLock { core in
            if paused { core.environments[env]?.paused = true }
            return paused ? core.fleet.frozen(env) : core.fleet.freezeFailed(env, now: .now)
        }
        perform(actions)
    }

    private func thaw(_ env: EnvironmentID) async {
        guard let containerID = containerID(of: env) else {
            return perform(core.withLock { $0.fleet.thawFailed(env, now: .now) })
        }
        let thawed = await retrying { try await self.engine.unpauseContainer(containerID) }
        let actions = core.withLock { core in
            if thawed { core.environments[env]?.paused = false }
            return thawed ? core.fleet.thawed(env, now: .now) : core.fleet.thawFailed(env, now: .now)
        }
        perform(actions)
    }

    private func destroy(_ env: EnvironmentID, _ reason: DestroyReason) async {
        let target = core.withLock { core -> (String, Bool)? in
            guard let record = core.environments[env] else { return nil }
            guard let containerID = record.containerID else {
                core.environments[env]?.destroyRequested = true
                return nil
            }
            core.environments[env]?.killed = true
            return (containerID, record.paused)
        }
        guard let (containerID, paused) = target else { return }
        logger.debug("destroying environment", metadata: ["env": "\(env)", "reason": "\(reason)"])
        // The watcher sees the exit, removes the container and reports it.
        if paused { _ = await retrying { try await self.engine.unpauseContainer(containerID) } }
        do {
            try await engine.killContainer(containerID)
        } catch {
            // Already stopped: the watcher reports it.
        }
    }

    private func removeContainer(_ id: String, paused: Bool) async {
        if paused { _ = await retrying { try await self.engine.unpauseContainer(id) } }
        do {
            try await engine.removeContainer(id, force: true)
        } catch let error as EngineError where error.code == .notFound || error.code == .conflict {
            // Gone already, or being removed by the other path (watcher or shutdown).
        } catch {
            logger.warning("could not remove container", metadata: ["container": "\(id)", "error": "\(error)"])
        }
    }

    /// Docker 20.10 sometimes gets its own pause state wrong when pause and
    /// unpause follow each other closely: check and retry a few times.
    private func retrying(_ operation: @Sendable () async throws -> Void) async -> Bool {
        for attempt in 0..<4 {
            do {
                try await operation()
                return true
            } catch let error as EngineError where error.code == .conflict || error.code == .server {
                if attempt < 3 { try? await Task.sleep(for: .milliseconds(2 << attempt)) }
            } catch {
                return false
            }
        }
        return false
    }

    private func finish(_ id: InvocationID, _ outcome: InvocationOutcome, finishedAt: ContinuousClock.Instant) {
        guard let call = core.withLock({ $0.calls.removeValue(forKey: id) }) else { return }
        if let deliveredAt = call.deliveredAt {
            let (kind, errorType, note) = Self.logSummary(outcome, requestID: id)
            logBook.answered(id, duration: finishedAt - deliveredAt, outcome: kind, errorType: errorType, note: note)
        }
        var result = InvocationResult(
            requestID: id, function: call.function, outcome: outcome, environment: call.environment,
            duration: call.deliveredAt.map { finishedAt - $0 }, initDuration: call.initDuration,
            totalDuration: finishedAt - call.arrivedAt, memorySizeMiB: call.memorySizeMiB)
        result.httpResponse = call.response
        call.completion(result)
    }

    // MARK: - RuntimeAPIDelegate

    public func runtimeRequestedNext(_ env: EnvironmentID, waiter: NextWaiter) {
        let actions = core.withLock { core -> [FleetAction] in
            guard core.environments[env] != nil else { return [] }
            core.environments[env]?.waiters.removeAll { !$0.isWaiting }
            core.environments[env]?.waiters.append(waiter)
            return core.fleet.runtimeRequestedNext(env, now: .now)
        }
        // An idle environment's freeze grace starts now: the timer loop must know.
        if actions.isEmpty { wake() } else { perform(actions) }
    }

    public func runtimeAbandonedNext(_ env: EnvironmentID, waiter: NextWaiter) {
        core.withLock { core in
            guard var record = core.environments[env] else { return }
            record.waiters.removeAll { $0 === waiter || !$0.isWaiting }
            core.environments[env] = record
            // Only when no `/next` of the environment is left does it stop waiting.
            if record.waiters.isEmpty { core.fleet.runtimeAbandonedNext(env) }
        }
    }

    public func runtimeResponded(_ env: EnvironmentID, requestID: String, body: ByteBuffer) -> RuntimeCallVerdict {
        settle(env, requestID: requestID, outcome: .response(body))
    }

    public func runtimeReportedError(_ env: EnvironmentID, requestID: String, error: RuntimeErrorReport) -> RuntimeCallVerdict {
        settle(env, requestID: requestID, outcome: .functionError(error))
    }

    public func runtimeSentTooMuch(_ env: EnvironmentID, requestID: String, bytes: Int) {
        _ = settle(env, requestID: requestID, outcome: .responseTooLarge(bytes: bytes))
    }

    public func runtimeReportedInitError(_ env: EnvironmentID, error: RuntimeErrorReport) -> RuntimeCallVerdict {
        let actions = core.withLock { core -> [FleetAction]? in
            guard core.environments[env] != nil else { return nil }
            return core.fleet.runtimeInitFailed(env, errorType: error.errorType, message: error.errorMessage)
        }
        guard let actions else { return .forbidden }
        perform(actions)
        return .accepted
    }

    private func settle(_ env: EnvironmentID, requestID: String, outcome: InvocationOutcome) -> RuntimeCallVerdict {
        let now = ContinuousClock.Instant.now
        let verdict = core.withLock { $0.fleet.runtimeFinished(InvocationID(requestID), in: env, now: now) }
        if verdict == .accepted {
            finish(InvocationID(requestID), outcome, finishedAt: now)
            wake()
        }
        return verdict
    }

    // MARK: - Helpers

    /// How an outcome reads in the log and the ledger: its kind, error type,
    /// and the line Lambda writes for it before END.
    static func logSummary(_ outcome: InvocationOutcome, requestID: InvocationID)
        -> (InvocationReport.Outcome, String?, String?)
    {
        switch outcome {
        case .response:
            return (.success, nil, nil)
        case .functionError(let report):
            return (.error, report.errorType, nil)
        case .responseTooLarge:
            return (.error, "Function.ResponseSizeTooLarge", nil)
        case .rejected:
            return (.unavailable, nil, nil)
        case .failed(let failure):
            let (type, message) = InvocationResult.describe(failure, requestID: requestID)
            switch failure {
            case .timedOut: return (.timeout, type, "\(ISO8601DateFormatter().string(from: Date())) \(message)")
            case .runtimeExited(_, let oom): return (oom ? .oom : .crash, type, message)
            case .runtimeVanished: return (.crash, type, message)
            case .initFailed: return (.initError, type, message)
            case .environmentUnavailable, .shuttingDown: return (.unavailable, type, message)
            }
        }
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
