import ArgumentParser
import Controller
import Foundation
import Logging
import FunctionMode
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

    func validate() throws {
        _ = try Self.hostAndPort(gateway)
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
}

/// `tandem down`: stops the controller running here.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop the controller running in this folder; every environment is removed.")

    func run() async throws {
        do {
            try await ControlClient(socketPath: StateDirectory().controlSocket).down()
            print("tandem: stopping")
        } catch let error as ControllerError {
            throw CLIError(error.description)
        }
    }
}

/// `tandem ps`: the workloads of the running controller and their environments.
struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps", abstract: "List the running controller's workloads and their environments.")

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
        var rows = [["WORKLOAD", "MODE", "STATE", "ENVIRONMENT", "PHASE", "INVOCATIONS"]]
        for workload in list.workloads {
            let state = workload.running ? "running" : "not started"
            if workload.environments.isEmpty {
                rows.append([workload.name, workload.mode, state, "-", "-", "-"])
            }
            for env in workload.environments {
                rows.append([workload.name, workload.mode, state, env.id, env.phase, String(env.invocations)])
            }
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
