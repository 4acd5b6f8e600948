import Engine
import Foundation
import FunctionMode
import Gateway
import Hummingbird
import Logging
import Manifest
import NIOCore
import NIOPosix
import Placement
import ServiceLifecycle
import ServiceMode
import Store
import Synchronization

/// What `tandem up` needs to know.
public struct ControllerOptions: Sendable {
    public var manifestPath: String
    public var state: StateDirectory
    public var gatewayHost: String
    public var gatewayPort: Int
    /// The engine's Unix socket; nil for `DOCKER_HOST` or the default (see ``EngineClient/defaultSocketPath(environment:)``).
    public var engineSocket: String?
    public var settings: FunctionHostSettings
    /// The gateway's timeouts and connection bound.
    public var gatewayLimits = ConnectionLimits()
    /// Who may call the gateway's Invoke API.
    public var gatewayAuthentication = GatewayAuthentication.none
    /// Back-off between retries of a failed asynchronous event (Lambda: about 1 and 2 minutes).
    public var eventBackoff: [Swift.Duration] = [.seconds(60), .seconds(120)]
    /// How long accepted work may go on after a stop request (`down`, SIGTERM,
    /// SIGINT) before it is ended (like `docker stop`'s timeout).
    public var stopTimeout: Swift.Duration = .seconds(10)

    public init(
        manifestPath: String = ManifestLoader.defaultPath, state: StateDirectory = StateDirectory(),
        gatewayHost: String = "127.0.0.1", gatewayPort: Int = 8080,
        engineSocket: String? = nil, settings: FunctionHostSettings = FunctionHostSettings()
    ) {
        self.manifestPath = manifestPath
        self.state = state
        self.gatewayHost = gatewayHost
        self.gatewayPort = gatewayPort
        self.engineSocket = engineSocket
        self.settings = settings
    }
}

/// The daemon: places the manifest's workloads, runs the function-mode ones,
/// serves the gateway and the control socket, and shuts everything down on
/// SIGINT/SIGTERM or `tandem down`.
public final class Controller: Sendable {
    public let manifest: Manifest
    public let decisions: [Decision]
    /// The manifest's workloads as placed: each with its runner kind and revision.
    public let deployment: Deployment
    public let engine: EngineClient
    /// One runner per kind that this version can run; a workload whose kind
    /// has none is reported and shown as not started.
    let runners: [RunnerKind: any WorkloadRunner]
    public let options: ControllerOptions
    public let project: String
    let logFiles: FunctionLogFiles
    let logger: Logger
    public let store: Store
    let events: EventQueue
    /// Service replicas as the gateway balances over them.
    let upstreams: UpstreamRegistry
    /// Task runs, which `tandem run` starts and follows.
    let tasks: LocalTaskRunner
    /// What Fargate would bill for a run.
    var taskBilling: TaskBilling { TaskBilling(prices: Prices(pricing: manifest.pricing)) }
    private let gatewayServer = Mutex<GatewayServer?>(nil)
    /// This folder's lock, held from `prepare` until `run` ends.
    private let lock: Mutex<StateLock?>

    private init(
        manifest: Manifest, decisions: [Decision], deployment: Deployment, engine: EngineClient,
        runners: [RunnerKind: any WorkloadRunner], options: ControllerOptions, project: String,
        logFiles: FunctionLogFiles, logger: Logger, store: Store, events: EventQueue, lock: StateLock,
        upstreams: UpstreamRegistry, tasks: LocalTaskRunner
    ) {
        self.lock = Mutex(lock)
        self.upstreams = upstreams
        self.tasks = tasks
        self.store = store
        self.events = events
        self.manifest = manifest
        self.decisions = decisions
        self.deployment = deployment
        self.engine = engine
        self.runners = runners
        self.options = options
        self.project = project
        self.logFiles = logFiles
        self.logger = logger
    }

    /// The deployed workloads a runner of this version runs (the others are not started).
    var runningWorkloads: [DeployedWorkload] {
        deployment.workloads.filter { Self.refusal(for: $0, runners: runners) == nil }
    }

    /// Why `workload` is not started by this version, or nil when a runner runs it.
    static func refusal(for workload: DeployedWorkload, runners: [RunnerKind: any WorkloadRunner]) -> String? {
        guard let runner = runners[workload.kind] else {
            return "\(workload.mode.rawValue) mode is not part of this version yet"
        }
        return runner.refusal(for: workload)
    }

    /// Whether `name` is a workload that runs here and answers invocations.
    func isInvocable(_ name: String) -> Bool {
        deployment.kind(of: name).flatMap { runners[$0] } is any InvocationRunner
    }

    /// Loads and places the manifest, checks the engine, clears what a previous
    /// run left behind, builds the images and deploys the functions.
    /// - Parameter progress: one line per step, for the operator.
    public static func prepare(
        _ options: ControllerOptions, logger: Logger = Logger(label: "tandem.controller"),
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> Controller {
        let manifest: Manifest
        do {
            manifest = try ManifestLoader.load(path: options.manifestPath)
        } catch {
            throw ControllerError(.manifestInvalid, "\(error)", underlying: error)
        }
        let machine = MachineCapacity(memoryMiB: Int(clamping: ProcessInfo.processInfo.physicalMemory >> 20))
        let decisions = PlacementModel().decide(manifest, machine: machine)

        let engine: EngineClient
        do {
            engine = try EngineClient(socketPath: options.engineSocket, logger: logger)
            try await engine.ping(timeout: .seconds(2))
        } catch {
            throw ControllerError(.engineUnreachable, "\(error)", underlying: error)
        }
        do {
            try options.state.create()
        } catch {
            throw ControllerError(.stateUnavailable, "cannot prepare the state folder \(options.state.root.path): \(error)",
                                  underlying: error)
        }
        // One controller per folder: the lock comes before anything is touched.
        let lock: StateLock
        do {
            lock = try StateLock.acquire(options.state)
        } catch .held {
            throw ControllerError(
                .alreadyRunning, "a controller is already running here (it holds \(options.state.lockFile)); `tandem down` stops it")
        } catch {
            throw ControllerError(.stateUnavailable, "\(error)", underlying: error)
        }
        // The gateway's address is checked before minutes of image builds.
        try await Self.checkBindable(host: options.gatewayHost, port: options.gatewayPort)
        let manifestDirectory = URL(fileURLWithPath: options.manifestPath).deletingLastPathComponent().standardizedFileURL
        let project = Self.projectLabel(manifestDirectory.path)

        // Environments of an earlier run cannot be adopted: their Runtime API
        // endpoints died with that controller. Remove them.
        // Nor can task containers: their `tandem run` and its output are gone.
        // (Replicas outlive a controller: the service backend adopts them.)
        let leftovers: [ContainerSummary]
        do {
            leftovers = try await engine.listContainers(all: true, labels: ["tandem.project=\(project)"])
                .filter { $0.labels?["tandem.mode"] != "service" }
        } catch {
            throw ControllerError(.engineFailed, "cannot list the containers an earlier run left: \(error)", underlying: error)
        }
        for container in leftovers {
            try? await engine.removeContainer(container.id, force: true)
        }
        if !leftovers.isEmpty { progress("removed \(leftovers.count) environment(s) and task container(s) left by an earlier run") }

        let deployment = Deployment(manifest: manifest, decisions: decisions, project: project)

        let bridge: NetworkInspect
        do {
            bridge = try await engine.inspectNetwork("bridge")
        } catch {
            throw ControllerError(.engineFailed, "cannot inspect the engine's bridge network: \(error)", underlying: error)
        }
        guard let runtimeHost = BridgeAddress.gateway(of: bridge) else {
            throw ControllerError(.engineFailed, "the engine's bridge network has no gateway address; function environments could not reach the Runtime API")
        }
        var settings = options.settings
        settings.project = project
        let store: Store
        do {
            try options.state.createDatabaseFile()
            store = try Store.open(path: options.state.database)
        } catch {
            throw ControllerError(.stateUnavailable, "cannot open the state database \(options.state.database): \(error)",
                                  underlying: error)
        }
        let logFiles = FunctionLogFiles(directory: options.state) { reports in
            let records = reports.map { InvocationRecord(report: $0) }
            Task {
                do { try await store.record(contentsOf: records) } catch {
                    logger.error("could not record an invocation", metadata: ["error": "\(error)"])
                }
            }
        }
        // One machine-wide limit, whatever runner asks.
        let admission = Admission(limit: settings.globalConcurrency)
        let host = FunctionHost(
            engine: engine, runtimeHost: runtimeHost, group: MultiThreadedEventLoopGroup.singleton,
            settings: settings, observer: logFiles, admission: admission, logger: logger)
        let commands = CommandFunctions(engine: engine, settings: settings, observer: logFiles, admission: admission,
                                        logger: logger)
        let upstreams = UpstreamRegistry()
        let output = OutputLogLines(files: logFiles)
        let billing = TaskBilling(prices: Prices(pricing: manifest.pricing))
        let tasks = LocalTaskRunner(
            engine: engine, project: project, admission: admission, logger: logger,
            onFinished: { result in
                progress("\(result.task): run \(result.id.rawValue.prefix(8)) \(result.end.reason) after \(Self.seconds(result.duration))"
                    + (result.attempts > 1 ? " (\(result.attempts) attempts)" : ""))
                let record = billing.record(result)
                Task {
                    do { try await store.recordTaskRun(record) } catch {
                        logger.error("could not record a task run", metadata: ["error": "\(error)"])
                    }
                }
            },
            onOutput: { name, run, bytes in output.append(name, source: "run \(run.rawValue.prefix(8))", bytes) })
        let services = LocalBackend(
            engine: engine, project: project, admission: admission, traffic: GatewayReplicaTraffic(upstreams: upstreams),
            logger: logger,
            onChange: { name, spec, ready in
                if let spec { upstreams.update(name, ServiceWiring.upstreams(spec, ready)) } else { upstreams.remove(name) }
            },
            onNote: { progress(ServiceWiring.line($0)) },
            onOutput: { replica, bytes in output.append(replica.service, source: replica.description, bytes) },
            onContainerEnded: { upstreams.abandon(endpoint: $0) })
        let runners: [RunnerKind: any WorkloadRunner] = [
            .functionHost: FunctionHostRunner(host: host),
            .commandRunner: CommandRunner(commands: commands),
            .serviceHost: ServiceHostRunner(backend: services, inFlight: { upstreams.inFlight(service: $0) }),
            .taskRunner: TaskHostRunner(tasks: tasks, billing: billing),
        ]

        var accepted: [RunnerKind: [DeployedWorkload]] = [:]
        for workload in deployment.workloads {
            if let refusal = Self.refusal(for: workload, runners: runners) {
                progress("\(workload.name): placed in \(workload.mode.rawValue) mode — \(refusal), so it is not started")
                continue
            }
            try await Self.prepareImage(of: workload, in: manifestDirectory, engine: engine, progress: progress)
            accepted[workload.kind, default: []].append(workload)
            for line in TriggerSupport.notRun(by: workload.workload) { progress(line) }
        }
        for (kind, workloads) in accepted.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            do {
                try await runners[kind]?.start(workloads)
            } catch {
                throw ControllerError(.engineFailed, "\(workloads.map(\.name).joined(separator: ", ")): could not be deployed: \(error)",
                                      underlying: error)
            }
        }
        let asyncFunctions = deployment.workloads.filter { runners[$0.kind] is any InvocationRunner }.map { deployed in
            let workload = deployed.workload
            return EventQueue.Function(
                name: workload.name,
                policy: RetryPolicy(
                    maxAttempts: (workload.retries ?? 2) + 1,
                    maxEventAge: workload.maxEventAge.map { $0.swiftDuration } ?? .seconds(6 * 3600),
                    backoff: options.eventBackoff),
                deadLetterQueue: workload.deadLetter,
                workers: min(workload.concurrency.reserved ?? 4, 4),
                timeout: (workload.timeout ?? Workload.defaultFunctionTimeout).swiftDuration)
        }
        let router = FunctionRouter(deployment: deployment, runners: runners)
        let events = EventQueue(store: store, functions: asyncFunctions, logger: logger) { name, payload, requestID in
            // The report comes back to the queue, which records it with the event's completion.
            await router.invoke(name, payload: payload, clientContext: nil, includeLog: false, requestID: requestID,
                                claimReport: true)
        }
        return Controller(
            manifest: manifest, decisions: decisions, deployment: deployment, engine: engine, runners: runners,
            options: options, project: project, logFiles: logFiles, logger: logger, store: store, events: events,
            lock: lock, upstreams: upstreams, tasks: tasks)
    }

    /// Builds a workload's image from its folder, or checks that the named image is here.
    static func prepareImage(
        of deployed: DeployedWorkload, in manifestDirectory: URL, engine: EngineClient,
        progress: @escaping @Sendable (String) -> Void
    ) async throws {
        let workload = deployed.workload, image = deployed.image
        switch workload.source {
        case .build(let context, let dockerfile):
            if let dockerfile, dockerfile != "Dockerfile" {
                throw ControllerError(.unsupported, "\(workload.name): build.dockerfile \(dockerfile) is not supported yet; name the file Dockerfile")
            }
            let folder = ImageFolder(context, relativeTo: manifestDirectory)
            let started = ContinuousClock.now
            do {
                _ = try await folder.build(with: engine, tag: image)
            } catch {
                throw ControllerError(.buildFailed, "\(workload.name): could not build \(context): \(error)", underlying: error)
            }
            progress("\(workload.name): built \(image) from \(context) in \(Self.seconds(ContinuousClock.now - started))")
        case .image(let reference):
            do {
                _ = try await engine.inspectImage(reference)
            } catch let error as EngineError where error.code == .notFound {
                throw ControllerError(
                    .imageMissing,
                    "\(workload.name): image \(reference) is not on this machine and no registry can be reached; build it (build: FOLDER) or `tandem build FOLDER`",
                    underlying: error)
            } catch {
                throw ControllerError(.engineFailed, "\(workload.name): image \(reference) could not be inspected: \(error)",
                                      underlying: error)
            }
        }
    }

    /// Fails with a clear message when the gateway's address cannot be listened on.
    static func checkBindable(host: String, port: Int) async throws {
        guard port != 0 else { return }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw ControllerError(
                .gatewayAddressInUse,
                "the gateway cannot listen on \(host):\(port): the address is in use (another `tandem up`?); "
                    + "stop it with `tandem down` there, or choose another with --gateway HOST:PORT",
                underlying: error)
        } catch {
            throw ControllerError(.gatewayAddressInUse, "the gateway cannot listen on \(host):\(port): \(error)", underlying: error)
        }
    }

    /// Runs until SIGINT, SIGTERM or `tandem down` and the drain that follows
    /// (see ``StopSequence``); then every environment is removed.
    public func run(progress: @escaping @Sendable (String) -> Void) async throws {
        let socket = options.state.controlSocket
        // The folder's lock is held: a socket file here is an earlier run's.
        try? FileManager.default.removeItem(atPath: socket)
        let requests = StopRequests()
        let control = ControlServer(controller: self, stop: requests).application(
            socketPath: socket, onRunning: {
                // Private whatever the umask (the folder is 0700 too).
                _ = try? StateDirectory.restrict(socket, to: 0o600)
                progress("control socket \(socket)")
            })
        var services: [any Service] = runners.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            RunnerService(runner: $0.value, stopTimeout: options.stopTimeout)
        }
        services += [events, control] as [any Service]
        if let gateway = try makeGateway(progress: progress) { services.append(gateway) }
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = options.stopTimeout + .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let runners = Array(self.runners.values), stopTimeout = options.stopTimeout
        let stop = StopSequence(
            requests: requests, stopTimeout: stopTimeout,
            drain: {
                progress("stopping: new work is refused; accepted work has \(Self.seconds(stopTimeout)) to finish")
                for runner in runners { runner.drain(within: stopTimeout) }
            },
            forceStop: {
                for runner in runners { runner.drain(within: .zero) }
                await Self.shutDown(runners)
            },
            shutDownGroup: { await group.triggerGracefulShutdown() })
        var failure: (any Error)?
        do {
            try await stop.run { try await group.run() }
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            failure = ControllerError(
                .gatewayAddressInUse,
                "the gateway cannot listen on \(options.gatewayHost):\(options.gatewayPort): the address is in use "
                    + "(another `tandem up`?); stop it with `tandem down` there, or choose another with --gateway HOST:PORT",
                underlying: error)
        } catch {
            failure = error
        }
        // Whatever ended the group, nothing this run started is left behind.
        await Self.shutDown(runners)
        await removeLeftoverEnvironments()
        if requests.removesVolumes { await removeVolumes(progress: progress) }
        logFiles.close()
        try? FileManager.default.removeItem(atPath: socket)
        lock.withLock { $0 = nil }
        if let failure { throw failure }
        progress("stopped; every environment, replica and task container removed")
    }

    /// Shuts every runner down at once; returns when all are done.
    static func shutDown(_ runners: [any WorkloadRunner]) async {
        await withTaskGroup(of: Void.self) { group in
            for runner in runners { group.addTask { await runner.shutdown() } }
        }
    }

    /// Removes containers of this project the runners no longer know of (a
    /// start caught by the stop, or a runner cancelled mid-way).
    func removeLeftoverEnvironments() async {
        guard let leftovers = try? await engine.listContainers(all: true, labels: ["tandem.project=\(project)"]) else { return }
        for container in leftovers {
            try? await engine.removeContainer(container.id, force: true)
        }
    }

    /// Removes the named volumes of this project's stateful services (`down --volumes`).
    func removeVolumes(progress: @Sendable (String) -> Void) async {
        guard let volumes = try? await engine.listVolumes(labels: ["tandem.project=\(project)"]) else { return }
        for volume in volumes {
            do {
                try await engine.removeVolume(volume.name)
                progress("removed volume \(volume.name)")
            } catch {
                progress("could not remove volume \(volume.name): \(error)")
            }
        }
    }

    /// The gateway: the Lambda Invoke API for every running function, and the
    /// http triggers of the manifest's running workloads.
    func makeGateway(progress: @escaping @Sendable (String) -> Void) throws -> (any Service)? {
        let invoker = router
        var routes: [GatewayRoute] = []
        for deployed in runningWorkloads {
            guard let target = runners[deployed.kind]?.routeTarget(deployed.name) else { continue }
            for trigger in deployed.workload.triggers {
                guard case .http(let route) = trigger else { continue }
                routes.append(GatewayRoute(
                    methods: route.methods.isEmpty ? nil : Set(route.methods), path: route.path,
                    target: target))
            }
        }
        let server: GatewayServer
        do {
            server = try GatewayServer(
                invoker: invoker, routes: routes, upstreams: upstreams,
                configuration: GatewayConfiguration(host: options.gatewayHost, port: options.gatewayPort,
                                                    limits: options.gatewayLimits,
                                                    authentication: options.gatewayAuthentication),
                logger: logger)
        } catch {
            throw ControllerError(.gatewayUnavailable, "the manifest's http routes cannot be served: \(error)", underlying: error)
        }
        gatewayServer.withLock { $0 = server }
        let host = options.gatewayHost
        Task {
            if let port = try? await server.listeningPort() {
                progress("gateway http://\(host):\(port) (Lambda Invoke API: POST /2015-03-31/functions/NAME/invocations)")
                for route in routes {
                    progress("route \(route.methods.map { $0.sorted().joined(separator: ",") } ?? "ANY") \(route.path) → \(route.target)")
                }
            }
        }
        return server
    }

    /// Every function, whatever its contract, with asynchronous events queued.
    var router: FunctionRouter { FunctionRouter(deployment: deployment, runners: runners, events: events) }

    /// The gateway, once `run` has made it.
    public var gateway: GatewayServer? { gatewayServer.withLock { $0 } }

    /// A stable label for the manifest's folder (FNV-1a, 12 hex digits).
    static func projectLabel(_ path: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(12))
    }

    static func seconds(_ duration: Swift.Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", seconds)
    }
}

extension InvocationRecord {
    /// The ledger's record of a function invocation's report.
    init(report: InvocationReport, trigger: Trigger = .invoke) {
        let outcome: Outcome
        switch report.outcome {
        case .success: outcome = .success
        case .error: outcome = .error
        case .timeout: outcome = .timeout
        case .crash: outcome = .crash
        case .oom: outcome = .oom
        case .initError: outcome = .initError
        case .unavailable: outcome = .unavailable
        }
        self.init(
            requestID: report.requestID.rawValue, workload: report.function, mode: .function, trigger: trigger,
            startedAt: report.startedAtEpochMilliseconds, durationMs: report.durationMilliseconds,
            billedDurationMs: Int64(report.billedMilliseconds), memorySizeMB: report.memorySizeMiB,
            maxMemoryUsedMB: report.maxMemoryUsedMiB, initDurationMs: report.initDurationMilliseconds,
            cold: report.cold, outcome: outcome, errorType: report.errorType,
            environmentID: report.environment.rawValue)
    }
}
