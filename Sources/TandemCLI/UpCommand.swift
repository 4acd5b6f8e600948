import ArgumentParser
import Controller
import Engine
import Foundation
import FunctionMode
import Gateway
import Logging
import Manifest
import struct Manifest.Duration

/// `tandem up`: runs the controller in the foreground.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the manifest's workloads: the controller in the foreground, until Ctrl-C or `tandem down`.",
        discussion: """
            Places every workload, builds the images of `build:` folders, runs the function-mode \
            workloads (environments start on demand, freeze when idle, are reaped after \
            --reap-after), serves the gateway on --gateway and the control socket at \
            .tandem/tandem.sock. Logs are kept in .tandem/logs/NAME.log. One controller per \
            folder (it holds .tandem/controller.lock); .tandem is private to its user (0700, \
            files 0600). `tandem down`, SIGTERM or Ctrl-C stop it: new work is refused, accepted \
            work has --stop-timeout to finish, then every environment is removed.

            The gateway closes a connection whose request head is not complete within \
            --header-timeout, a kept-alive one idle for --idle-timeout, and any connection \
            beyond --max-connections at once. It listens on loopback unless told otherwise: \
            another address needs --auth sigv4 (every Invoke API call signed with AWS \
            Signature Version 4 by a key of --auth-keys; http routes stay public) or \
            --insecure-public.
            """
    )

    @OptionGroup var manifestOptions: ManifestOptions

    @Option(help: ArgumentHelp("Where the gateway listens.", valueName: "host:port"))
    var gateway = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("How long an idle environment lives before it is reaped, e.g. 5m.", valueName: "duration"))
    var reapAfter = "5m"

    @Option(help: ArgumentHelp("Most environments at once, across all functions.", valueName: "n"))
    var maxEnvironments = 64

    @Option(help: ArgumentHelp(
        "How long accepted work may go on after `tandem down`, SIGTERM or Ctrl-C before it is ended, e.g. 10s. "
            + "A second Ctrl-C ends it at once.", valueName: "duration"))
    var stopTimeout = "10s"

    @Option(help: ArgumentHelp("Log level of the controller's own messages (trace, debug, info, notice, warning, error).", valueName: "level"))
    var logLevel = "warning"

    @Option(help: ArgumentHelp("Who may call the Invoke API: none, or sigv4 (AWS Signature Version 4, keys from --auth-keys).", valueName: "mode"))
    var auth = "none"

    @Option(help: ArgumentHelp("With --auth sigv4: the key file, one `ACCESS_KEY_ID SECRET_ACCESS_KEY` a line, mode 600.", valueName: "file"))
    var authKeys: String?

    @Flag(help: "Listen on a non-loopback --gateway address without --auth sigv4 (anyone who can connect may invoke).")
    var insecurePublic = false

    @Option(help: ArgumentHelp("A request head must be complete within this time, e.g. 10s.", valueName: "duration"))
    var headerTimeout = "10s"

    @Option(help: ArgumentHelp("A kept-alive connection with no request is closed after this, e.g. 60s.", valueName: "duration"))
    var idleTimeout = "60s"

    @Option(help: ArgumentHelp("Most gateway connections open at once; more are closed at once.", valueName: "n"))
    var maxConnections = 1024

    func validate() throws {
        let (host, _) = try Self.hostAndPort(gateway)
        _ = try Self.timeout(headerTimeout, option: "--header-timeout")
        _ = try Self.timeout(idleTimeout, option: "--idle-timeout")
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1, got \(maxConnections)") }
        try Self.checkExposure(host: host, auth: auth, authKeys: authKeys, insecurePublic: insecurePublic)
        _ = try Self.duration(reapAfter, option: "--reap-after")
        _ = try Self.duration(stopTimeout, option: "--stop-timeout")
        if maxEnvironments < 1 { throw ValidationError("--max-environments must be at least 1, got \(maxEnvironments)") }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: expected one of trace, debug, info, notice, warning, error, critical; found \"\(logLevel)\"")
        }
    }

    func run() async throws {
        _ = try manifestOptions.loadManifest()
        let (host, port) = try Self.hostAndPort(gateway)
        var settings = FunctionHostSettings()
        settings.reapAfter = try Self.duration(reapAfter, option: "--reap-after")
        settings.globalConcurrency = maxEnvironments
        var options = ControllerOptions(
            manifestPath: manifestOptions.file, gatewayHost: host, gatewayPort: port, settings: settings)
        options.stopTimeout = try Self.duration(stopTimeout, option: "--stop-timeout")
        do {
            options.engineSocket = try EngineClient.defaultSocketPath()
        } catch {
            throw CLIError(error.description)
        }
        options.gatewayLimits = ConnectionLimits(
            headerTimeout: try Self.timeout(headerTimeout, option: "--header-timeout"),
            idleTimeout: try Self.timeout(idleTimeout, option: "--idle-timeout"),
            maxConnections: maxConnections)
        if auth == "sigv4", let authKeys {
            do {
                options.gatewayAuthentication = .sigV4(SigV4Verifier(keys: try SigV4KeyFile.load(path: authKeys)))
            } catch {
                throw CLIError(error.description)
            }
        }
        let say: @Sendable (String) -> Void = { line in
            FileHandle.standardOutput.write(Data("tandem: \(line)\n".utf8))
        }
        var logger = Logger(label: "tandem")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        do {
            let controller = try await Controller.prepare(options, logger: logger, progress: say)
            for (workload, decision) in zip(controller.manifest.workloads, controller.decisions) {
                say("\(workload.name): \(decision.mode.rawValue) mode — \(decision.mainReason)")
            }
            try await controller.run(progress: say)
        } catch let error as ControllerError {
            throw CLIError(error.description)
        }
    }

    static func hostAndPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("--gateway: expected HOST:PORT such as 127.0.0.1:8080, found \"\(text)\"")
        }
        return (String(text[..<colon]), port)
    }

    static func duration(_ text: String, option: String) throws -> Swift.Duration {
        do {
            return try Duration(parsing: text).swiftDuration
        } catch {
            throw ValidationError("\(option): expected a duration such as 30s or 5m, found \"\(text)\"")
        }
    }

    static func timeout(_ text: String, option: String) throws -> Swift.Duration {
        let duration = try duration(text, option: option)
        guard duration > .zero else { throw ValidationError("\(option) must be longer than zero, found \"\(text)\"") }
        return duration
    }

    /// Who may reach the gateway: a non-loopback address needs `--auth sigv4`
    /// or an explicit `--insecure-public`.
    static func checkExposure(host: String, auth: String, authKeys: String?, insecurePublic: Bool) throws {
        switch auth {
        case "none":
            if authKeys != nil { throw ValidationError("--auth-keys is used only with --auth sigv4") }
            if !LoopbackAddress.isLoopback(host) && !insecurePublic {
                throw ValidationError("""
                    --gateway \(host) is not a loopback address: anyone who can reach it could invoke every function. \
                    Add --auth sigv4 --auth-keys FILE to require AWS Signature Version 4, \
                    or --insecure-public if the network is private.
                    """)
            }
        case "sigv4":
            if authKeys == nil { throw ValidationError("--auth sigv4 needs --auth-keys FILE (one `ACCESS_KEY_ID SECRET_ACCESS_KEY` a line, mode 600)") }
        default:
            throw ValidationError("--auth: expected none or sigv4, found \"\(auth)\"")
        }
    }
}

/// `tandem down`: stops the controller running here.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the controller running in this folder and wait until it is gone; every container is removed.")

    @Flag(help: "Remove stateful services' volumes too (their data is lost).")
    var volumes = false

    func run() async throws {
        let client = ControlClient(socketPath: StateDirectory().controlSocket)
        do {
            try await client.down(removingVolumes: volumes)
            print("tandem: stopping (accepted work has the controller's --stop-timeout to finish)")
        } catch let error as ControllerError {
            throw CLIError(error.description)
        }
        // Like `docker stop`: back when the controller is gone (its folder lock is free).
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if (try? StateLock.acquire(StateDirectory())) != nil {
                print("tandem: stopped")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("the controller is still stopping after 2 minutes")
    }
}

/// `tandem ps`: the workloads of the running controller, their environments and replicas.
struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps", abstract: "List the running controller's workloads, their environments and replicas.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let list: ProcessList
        do {
            list = try await ControlClient(socketPath: StateDirectory().controlSocket).processList()
        } catch let error as ControllerError {
            throw CLIError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(list), as: UTF8.self))
            return
        }
        let functions = list.workloads.filter { $0.service == nil && $0.task == nil }
        if !functions.isEmpty {
            var rows = [["WORKLOAD", "MODE", "STATE", "ENVIRONMENT", "PHASE", "INVOCATIONS"]]
            for workload in functions {
                let state = workload.running ? "running" : "not started"
                if workload.environments.isEmpty {
                    rows.append([workload.name, workload.mode, state, "-", "-", "-"])
                }
                for env in workload.environments {
                    rows.append([workload.name, workload.mode, state, env.id, env.phase, String(env.invocations)])
                }
            }
            Self.printTable(rows)
        }
        let services = list.workloads.compactMap { workload in workload.service.map { (workload.name, $0) } }
        if !services.isEmpty {
            if !functions.isEmpty { print("") }
            var rows = [["SERVICE", "READY", "REVISION", "RESTARTS", "IN FLIGHT", "STATUS"]]
            for (name, service) in services {
                let status: String
                if let retry = service.crashLoopRetrySeconds {
                    status = "crash loop: next start in \(Int(retry.rounded(.up))) s"
                } else {
                    status = service.ready == service.desired ? "running" : "starting"
                }
                rows.append([name, "\(service.ready)/\(service.desired)", String((service.revision ?? "-").prefix(12)),
                             String(service.restarts), String(service.inFlight), status])
            }
            Self.printTable(rows)
            var replicaRows = [["REPLICA", "PHASE", "ADDRESS", "CONTAINER", "REVISION"]]
            for (_, service) in services {
                for replica in service.replicas {
                    replicaRows.append([replica.id, replica.phase + (replica.failures > 0 ? " (\(replica.failures) failed checks)" : ""),
                                        replica.address ?? "-", replica.container ?? "-", String(replica.revision.prefix(12))])
                }
            }
            if replicaRows.count > 1 {
                print("")
                Self.printTable(replicaRows)
            }
            for (_, service) in services {
                for replica in service.replicas {
                    if let problem = replica.problem { print("\(replica.id): \(problem)") }
                }
            }
            for (name, service) in services {
                guard let exit = service.lastExit else { continue }
                print("\n\(name): last end: \(exit.reason)")
                for line in exit.lastLines { print("  | \(line)") }
            }
        }
        let tasks = list.workloads.compactMap { workload in workload.task.map { (workload.name, $0) } }
        if !tasks.isEmpty {
            if !functions.isEmpty || !services.isEmpty { print("") }
            var rows = [["TASK", "RUNNING", "WAITING", "LAST RUN", "RESULT", "DURATION", "COST"]]
            for (name, task) in tasks {
                let running = task.reserved.map { "\(task.running)/\($0)" } ?? String(task.running)
                if let last = task.recent.last {
                    rows.append([name, running, String(task.waiting), String(last.id.prefix(8)), last.reason,
                                 String(format: "%.2f s", last.durationSeconds), String(format: "$%.6f", last.costUSD)])
                } else {
                    rows.append([name, running, String(task.waiting), "-", "-", "-", "-"])
                }
            }
            Self.printTable(rows)
        }
    }

    static func printTable(_ rows: [[String]]) {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
