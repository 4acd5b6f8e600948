import Engine
import Foundation
import NIOPosix
import Store
import Synchronization
import Testing
import TestSupport
@testable import Controller

/// `tandem up` as an operator runs it — the real executable, in a folder of
/// its own — against what the hostile probe did to it: a loose umask and
/// another user of the machine, a second `up` in the same folder, a gateway
/// port already taken, and a stop while an environment is stuck.
@Suite("tandem up as a process", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct ControllerProcessTests {
    static let manifest = """
        version: 1
        workloads:
          echo:
            build: \(Repository.root.path)/images/echo-function
            contract: lambda
            mode: function
            memory: 128Mi
            timeout: 60s
        """

    @Test("under umask 000, .tandem is 0700 and its files 0600; another user can neither read the logs nor use the socket")
    func privateState() async throws {
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())"], umask: "000")
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            _ = try await client.invoke("echo", payload: Array(#"{"print":"secret output"}"#.utf8))
            let state = folder.appendingPathComponent(".tandem")
            try await eventually(timeout: .seconds(5)) {
                (try? String(contentsOf: state.appendingPathComponent("logs/echo.log"), encoding: .utf8))?
                    .contains("secret output") ?? false
            }
            #expect(try TandemUp.mode(state.path) == 0o700)
            #expect(try TandemUp.mode(state.appendingPathComponent("logs").path) == 0o700)
            #expect(try TandemUp.mode(state.appendingPathComponent("tandem.sock").path) == 0o600)
            #expect(try TandemUp.mode(state.appendingPathComponent("tandem.sqlite").path) == 0o600)
            #expect(try TandemUp.mode(state.appendingPathComponent("logs/echo.log").path) == 0o600)
            #expect(try TandemUp.mode(state.appendingPathComponent("controller.lock").path) == 0o600)

            // The folder holding .tandem is open to all, as a project folder usually is.
            try StateDirectory.restrict(folder.path, to: 0o755)
            let read = try TandemUp.runAsNobody(["cat", state.appendingPathComponent("logs/echo.log").path])
            #expect(read.status != 0 && !read.output.contains("secret output"), "nobody read the log: \(read.output)")
            let control = try TandemUp.runAsNobody([
                "curl", "-s", "-m", "5", "--unix-socket", state.appendingPathComponent("tandem.sock").path,
                "-X", "POST", "http://tandem/v1/down"])
            #expect(control.status != 0, "nobody reached the control socket: \(control.output)")
            #expect(await client.isAnswering(), "the controller stopped")
            try await client.down()
            #expect(await up.waitForExit(upTo: .seconds(20)) == 0, "\(up.output)")
        }
    }

    @Test("a second `up` in the same folder is refused before it touches anything; the first one's invocation finishes")
    func secondUpRefused() async throws {
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())"])
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            let long = Task { try await client.invoke("echo", payload: Array(#"{"sleep_ms":4000,"echo":"survived"}"#.utf8)) }
            try await Task.sleep(for: .seconds(1))
            let second = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())"])
            defer { second.kill() }
            let status = await second.waitForExit(upTo: .seconds(20))
            #expect(status != nil && status != 0)
            #expect(second.output.contains("a controller is already running here"), "\(second.output)")
            let answer = try await long.value
            #expect(String(decoding: answer.body, as: UTF8.self) == #""survived""#, "\(answer)")
            #expect(answer.functionError == nil)
            try await client.down()
            #expect(await up.waitForExit(upTo: .seconds(20)) == 0, "\(up.output)")
        }
    }

    @Test("a gateway port in use is reported before any image is built")
    func portInUse() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(taken.localAddress?.port)
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(port)"])
            defer { up.kill() }
            let status = await up.waitForExit(upTo: .seconds(20))
            #expect(status != nil && status != 0)
            #expect(up.output.contains("the gateway cannot listen on 127.0.0.1:\(port): the address is in use"), "\(up.output)")
            #expect(!up.output.contains("built"), "an image was built first: \(up.output)")
        }
        try await taken.close()
    }

    @Test("SIGTERM or `down` while an environment is stuck ends the controller within the stop timeout and removes every container",
          arguments: ["SIGTERM", "down"])
    func stopWithStuckEnvironment(_ how: String) async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(
                in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())", "--stop-timeout", "2s"])
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            let stuck = Task { try await client.invoke("echo", payload: Array(#"{"sleep_ms":50000}"#.utf8)) }
            let project = Controller.projectLabel(folder.standardizedFileURL.path)
            try await eventually(timeout: .seconds(20)) {
                let running = (try? await engine.listContainers(labels: ["tandem.project=\(project)"])) ?? []
                return !running.isEmpty
            }
            try await Task.sleep(for: .milliseconds(500))
            let stopped = ContinuousClock.now
            if how == "down" { try await client.down() } else { up.signal(SIGTERM) }
            let status = await up.waitForExit(upTo: .seconds(15))
            #expect(status == 0, "\(how): \(String(describing: status)) 15 s later: \(up.output)")
            #expect(ContinuousClock.now - stopped < .seconds(9), "took \(ContinuousClock.now - stopped)")
            let answer = await stuck.result
            #expect((try? answer.get())?.functionError == "Runtime.ShuttingDown", "\(answer) \(up.output)")
            let left = try await engine.listContainers(all: true, labels: ["tandem.project=\(project)"])
            #expect(left.isEmpty, "containers left behind: \(left.map(\.id))")
            for container in left { try? await engine.removeContainer(container.id, force: true) }
        }
    }
}

extension ControllerProcessTests {
    @Test("SIGKILL under asynchronous load: every event the queue no longer holds has its ledger row (one transaction)")
    func crashUnderAsyncLoad() async throws {
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())"])
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            // Warm up, so events run quickly while the load goes on.
            _ = try await client.invoke("echo", payload: Array(#"{"echo":0}"#.utf8))
            let accepted = Mutex<[String]>([])
            let load = Task {
                for n in 0..<400 {
                    guard let id = try? await client.enqueue("echo", payload: Array(#"{"echo":\#(n)}"#.utf8)) else { return }
                    accepted.withLock { $0.append(id) }
                }
            }
            // Kill it mid-way, once some events have run.
            let state = folder.appendingPathComponent(".tandem")
            try await Task.sleep(for: .milliseconds(1500))
            up.signal(SIGKILL)
            _ = await up.waitForExit(upTo: .seconds(10))
            load.cancel()
            _ = await load.value
            let ids = accepted.withLock { $0 }
            try #require(ids.count > 10, "too few events were accepted before the kill: \(ids.count)")

            let store = try Store.open(path: state.appendingPathComponent("tandem.sqlite").path)
            defer { try? store.close() }
            let pending = try await store.pending(queue: EventQueue.queueName("echo"), limit: 10_000)
                .map { EventQueue.open($0.payload).0.rawValue }
            let rows = try await store.records(workload: "echo", limit: 10_000).filter { $0.trigger == .event }
            let recorded = Set(rows.map(\.requestID))
            let handled = ids.filter { !pending.contains($0) }
            #expect(!handled.isEmpty, "no event ran before the kill")
            let missing = handled.filter { !recorded.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) of \(handled.count) handled events have no ledger row")
            // And no row for an event that is still to run (echo never fails).
            #expect(pending.filter { recorded.contains($0) }.isEmpty)
            // The killed controller's environments are removed by the next start
            // in this folder; the folder goes now, so remove them here.
            let engine = try await EngineAvailability.requireEngine()
            let project = Controller.projectLabel(folder.standardizedFileURL.path)
            for container in try await engine.listContainers(all: true, labels: ["tandem.project=\(project)"]) {
                try? await engine.removeContainer(container.id, force: true)
            }
        }
    }
}

/// A `tandem up` process and what it printed.
final class TandemUp: Sendable {
    let process: Process
    let folder: URL
    /// What it printed (stdout and stderr) so far.
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The `tandem` executable `swift build` put beside the test bundle.
    static func executable() throws -> String { try builtExecutable("tandem") }

    static func withFolder(_ manifest: String, _ body: (URL) async throws -> Void) async throws {
        // A clear failure (naming the socket) when the engine is missing, before `tandem up` runs.
        _ = try await EngineAvailability.requireEngine()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-up-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try manifest.write(to: folder.appendingPathComponent("tandem.yaml"), atomically: true, encoding: .utf8)
        try await body(folder)
    }

    static func start(in folder: URL, arguments: [String], umask: String? = nil) throws -> TandemUp {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let mask = umask.map { "umask \($0); " } ?? ""
        let log = folder.appendingPathComponent("up-\(UUID().uuidString.prefix(8)).log")
        process.arguments = ["-c", "\(mask)exec \"$0\" up \"$@\" > \"\(log.path)\" 2>&1", try executable()] + arguments
        process.currentDirectoryURL = folder
        let up = TandemUp(process: process, folder: folder, log: log)
        try process.run()
        return up
    }

    private let log: URL

    private init(process: Process, folder: URL, log: URL) {
        self.process = process
        self.folder = folder
        self.log = log
    }

    func waitUntilAnswering() async throws -> ControlClient {
        let client = ControlClient(socketPath: folder.appendingPathComponent(".tandem/tandem.sock").path)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, process.isRunning {
            if await client.isAnswering() { return client }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("tandem up did not answer on its control socket: \(output)")
        throw CancellationError()
    }

    /// The exit status, or nil if it still runs after `timeout`.
    func waitForExit(upTo timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    func signal(_ number: Int32) { Foundation.kill(process.processIdentifier, number) }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }


    static func mode(_ path: String) throws -> mode_t {
        var status = stat()
        try #require(stat(path, &status) == 0, "cannot stat \(path)")
        return status.st_mode & 0o777
    }

    /// Runs a command as the unprivileged user `nobody` (65534).
    static func runAsNobody(_ command: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups"] + command
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
