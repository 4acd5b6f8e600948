import Engine
import Foundation
import FunctionMode
import Store
import Testing
import TestSupport
@testable import Controller

/// The controller end to end against the real engine: a manifest in a temporary
/// folder, `up`, invocations through the control socket, `down`.
@Suite("Controller against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct ControllerTests {
    @Test("up runs the manifest's functions; invoke answers; logs, ledger and dead letters are kept; down removes everything")
    func upInvokeDown() async throws {
        try await ControllerTestSupport.withController(manifest: """
            version: 1
            workloads:
              echo:
                build: \(Repository.root.path)/images/echo-function
                contract: lambda
                mode: function
                memory: 256Mi
                timeout: 5s
                retries: 2
                dead_letter: failed-echoes
            queues:
              failed-echoes: {}
            """) { controller, client in
            let list = try await client.processList()
            #expect(list.workloads.map(\.name) == ["echo"])
            #expect(list.workloads.first?.running == true)

            let answer = try await client.invoke("echo", payload: Array(#"{"echo":"hi","print":"logged line"}"#.utf8))
            #expect(String(decoding: answer.body, as: UTF8.self) == #""hi""#)
            #expect(answer.functionError == nil)
            #expect(answer.log?.contains("logged line") == true)
            #expect(answer.log?.contains("REPORT RequestId: \(answer.requestID)") == true)

            let failed = try await client.invoke("echo", payload: Array(#"{"fail":"nope"}"#.utf8))
            #expect(failed.functionError != nil)

            // An event that always fails: 3 attempts, then the dead letters and the workload's dead_letter queue.
            let id = try await client.enqueue("echo", payload: Array(#"{"fail":"every time"}"#.utf8))
            try await eventually(timeout: .seconds(20)) {
                (try? await client.deadLetters())?.contains { $0.requestID == id } ?? false
            }
            let letter = try #require(try await client.deadLetters().first { $0.requestID == id })
            #expect(letter.attempts == 3)
            #expect(letter.payload == #"{"fail":"every time"}"#)
            let forwarded = try await controller.store.depth(queue: "failed-echoes", now: EventQueue.now())
            #expect(forwarded.visible == 1)

            // A good event runs once.
            let good = try await client.enqueue("echo", payload: Array(#"{"print":"event ran"}"#.utf8))
            // Each ledger row is written when its log closes (a cold environment's
            // waits up to 1.5 s for its first memory sample), so rows arrive in any order.
            try await eventually(timeout: .seconds(10)) {
                let records = (try? await controller.store.records(workload: "echo")) ?? []
                return records.contains { $0.requestID == good && $0.outcome == .success }
                    && records.filter { $0.requestID == id }.count >= 3
            }
            let records = try await controller.store.records(workload: "echo")
            #expect(records.contains { $0.requestID == answer.requestID && $0.outcome == .success })
            #expect(records.filter { $0.requestID == id }.count == 3)

            // Log lines reach the file in batches, a little after they happen.
            try await eventually(timeout: .seconds(5)) {
                let log = (try? String(contentsOf: controller.options.state.logFile("echo"), encoding: .utf8)) ?? ""
                return log.contains("logged line") && log.contains("event ran")
            }
        }
    }

    @Test("a command-contract workload runs one container per event: stdin in, stdout out, exit status as the error")
    func commandContract() async throws {
        try await ControllerTestSupport.withController(manifest: """
            version: 1
            workloads:
              upper:
                build: \(Repository.root.path)/images/upper-command
                contract: command
                mode: function
                memory: 128Mi
                timeout: 10s
            """) { _, client in
            let answer = try await client.invoke("upper", payload: Array(#""hello""#.utf8))
            #expect(String(decoding: answer.body, as: UTF8.self) == #""HELLO""#)
            #expect(answer.functionError == nil)
            let failed = try await client.invoke("upper", payload: Array("fail".utf8))
            #expect(failed.functionError == "Runtime.ExitError")
        }
    }

    @Test("a manifest with no function-mode workload runs (its idle parts never end the controller) and stops cleanly")
    func noFunctions() async throws {
        try await ControllerTestSupport.withController(manifest: """
            version: 1
            workloads:
              web:
                build: \(Repository.root.path)/images/http-echo
                contract: http
                mode: service
                memory: 64Mi
            """) { _, client in
            try await eventually(timeout: .seconds(20)) {
                (try? await client.processList().workloads.first?.service?.ready) == 1
            }
            let list = try await client.processList()
            #expect(list.workloads.map(\.name) == ["web"])
            #expect(list.workloads.first?.running == true)
            // Still up after its idle parts had time to end, were they to.
            try await Task.sleep(for: .milliseconds(500))
            #expect(await client.isAnswering())
        }
    }

    @Test("every mix of modes starts, lists every workload, answers its functions and stops cleanly",
          arguments: [["task"], ["service", "task"], ["function", "service", "task"]])
    func mixes(_ modes: [String]) async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.busybox(engine: engine)
        var manifest = "version: 1\nworkloads:\n"
        for mode in modes {
            switch mode {
            case "function":
                manifest += "  fn:\n    build: \(Repository.root.path)/images/echo-function\n    contract: lambda\n    mode: function\n    memory: 128Mi\n"
            case "service":
                manifest += "  web:\n    build: \(Repository.root.path)/images/http-echo\n    contract: http\n    mode: service\n    memory: 64Mi\n"
            default:
                manifest += "  batch:\n    image: \(TestImages.busybox)\n    contract: command\n    mode: task\n    memory: 64Mi\n"
                manifest += "    command: [\"sh\", \"-c\", \"echo batch ran\"]\n"
            }
        }
        try await ControllerTestSupport.withController(manifest: manifest) { _, client in
            let list = try await client.processList()
            let expected = modes.map { ["function": "fn", "service": "web", "task": "batch"][$0] ?? "" }
            #expect(Set(list.workloads.map(\.name)) == Set(expected))
            #expect(list.workloads.allSatisfy { $0.running })
            if modes.contains("function") {
                let answer = try await client.invoke("fn", payload: Array(#"{"echo":"mixed"}"#.utf8))
                #expect(String(decoding: answer.body, as: UTF8.self) == #""mixed""#)
            }
            if modes.contains("service") {
                try await eventually(timeout: .seconds(20)) {
                    (try? await client.processList().workloads.first { $0.name == "web" }?.service?.ready) == 1
                }
            }
            if modes.contains("task") {
                let run = try await client.startRun("batch", payload: [])
                #expect(try await client.runResult(run).outcome == "succeeded")
            }
            // Still up after its idle parts had time to end, were they to.
            try await Task.sleep(for: .milliseconds(500))
            #expect(await client.isAnswering())
        }
    }

    @Test("a manifest naming an image that is not on this machine is refused with a clear message")
    func missingImage() async throws {
        let error = await #expect(throws: ControllerError.self) {
            try await ControllerTestSupport.withController(manifest: """
                version: 1
                workloads:
                  ghost:
                    image: tandem/no-such-image:latest
                    contract: lambda
                    mode: function
                """) { _, _ in }
        }
        #expect(error?.description.contains("tandem/no-such-image:latest is not on this machine") == true)
    }
}

enum ControllerTestSupport {
    static func withController(
        manifest: String, _ body: (Controller, ControlClient) async throws -> Void
    ) async throws {
        let engine = try await EngineAvailability.requireEngine()

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-controller-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifestPath = folder.appendingPathComponent("tandem.yaml").path
        try manifest.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        var options = ControllerOptions(
            manifestPath: manifestPath, state: StateDirectory(folder.appendingPathComponent(".tandem").path),
            gatewayHost: "127.0.0.1", gatewayPort: 0)
        options.eventBackoff = [.milliseconds(100)]
        options.settings.globalConcurrency = 8
        let controller = try await Controller.prepare(options, progress: { _ in })
        let runner = Task { try await controller.run(progress: { _ in }) }
        let client = ControlClient(socketPath: options.state.controlSocket)
        do {
            try await eventually(timeout: .seconds(20)) { await client.isAnswering() }
            try await body(controller, client)
        } catch {
            try? await client.down()
            _ = try? await runner.value
            throw error
        }
        try await client.down()
        try await runner.value
        try await FunctionHostFixture.assertNoLeftovers(engine, project: controller.project)
    }
}

@Suite("Function log files")
struct FunctionLogFilesTests {
    @Test("lines are stamped in UTC with milliseconds", arguments: [
        (1_795_565_784.468, "2026-11-25T00:16:24.468Z"),
        (0.0, "1970-01-01T00:00:00.000Z"),
        (951_782_400.05, "2000-02-29T00:00:00.050Z"),
    ])
    func timestamp(seconds: Double, expected: String) {
        #expect(FunctionLogFiles.timestamp(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
