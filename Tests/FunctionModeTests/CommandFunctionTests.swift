import Engine
import Foundation
import NIOCore
import Synchronization
import Testing
import TestSupport
@testable import FunctionMode

/// `command`-contract functions against the real engine: images/upper-command
/// (stdin upper-cased to stdout; `fail` exits 3) and a busybox image for
/// sleeping, allocating and printing the environment.
@Suite("Command functions against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct CommandFunctionTests {
    @Test("the event goes in on stdin and the result comes from stdout; stderr is the log")
    func success() async throws {
        let observer = RecordingObserver()
        try await CommandTestSupport.withRunner(observer: observer) { runner in
            runner.deploy(CommandTestSupport.upper("upper"))
            let result = await runner.invoke("upper", payload: ByteBuffer(string: "hello, world"), includeLog: true)
            #expect(result.bodyText == "HELLO, WORLD")
            #expect(result.initDuration != nil)
            #expect(result.duration != nil)
            #expect(result.memorySizeMiB == 128)
            let log = try #require(result.log)
            #expect(log.hasPrefix("START RequestId: \(result.requestID) Version: $LATEST\n"))
            #expect(log.contains("upper-command: 12 bytes in\n"))
            #expect(!log.contains("HELLO"), "stdout is the result, not the log")
            #expect(log.contains("END RequestId: \(result.requestID)\n"))
            #expect(log.contains("REPORT RequestId: \(result.requestID)\tDuration: "))
            #expect(log.contains("\tInit Duration: "))
            #expect(!log.contains("Max Memory Used"))
            let report = try #require(observer.reports.first)
            #expect(report.outcome == .success)
            #expect(report.cold)
            #expect(observer.lines("upper").contains("upper-command: 12 bytes in"))
        }
    }

    @Test("1 MB of binary input and output round trip")
    func largePayload() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.upper("upper-large"))
            var input = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
            input.replaceSubrange(0..<256, with: (0...255).map { UInt8($0) })
            let result = await runner.invoke("upper-large", payload: ByteBuffer(bytes: input))
            let expected = input.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
            guard case .response(let body) = result.outcome else {
                Issue.record("expected a response, got \(result.outcome)")
                return
            }
            #expect(Array(body.readableBytesView) == expected)
        }
    }

    @Test("a non-zero exit is an Unhandled function error with the exit status and the last stderr line")
    func exitError() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.upper("upper-fails"))
            let result = await runner.invoke("upper-fails", payload: ByteBuffer(string: "fail"), includeLog: true)
            guard case .functionError(let report) = result.outcome else {
                Issue.record("expected a function error, got \(result.outcome)")
                return
            }
            #expect(report.errorType == "Runtime.ExitError")
            #expect(report.errorMessage == "exit status 3: upper-command: failing as asked")
            let document = try #require(result.errorDocument)
            #expect(document.errorType == "Runtime.ExitError")
            let parsed = try #require(ErrorDocument.parse(Array(document.body.utf8)))
            #expect(parsed.errorMessage == "exit status 3: upper-command: failing as asked")
            let log = try #require(result.log)
            #expect(log.contains("upper-command: failing as asked\n"))
            #expect(log.contains("Error: Runtime exited with error: exit status 3"))
        }
    }

    @Test("past its timeout the process is killed and the invocation times out")
    func timeout() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.busybox("sleeper", ["sh", "-c", "cat >/dev/null; sleep 30"], timeout: .seconds(1)))
            let result = await runner.invoke("sleeper", payload: ByteBuffer(string: "{}"), includeLog: true)
            guard case .failed(.timedOut(let after)) = result.outcome else {
                Issue.record("expected a timeout, got \(result.outcome)")
                return
            }
            #expect(after == .seconds(1))
            #expect(result.totalDuration < .seconds(10))
            #expect(result.errorDocument?.body.contains("Task timed out after 1.00 seconds") == true)
            #expect(result.log?.contains("Status: timeout") == true)
        }
    }

    @Test("a process killed for memory is Runtime.OutOfMemory")
    func outOfMemory() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.busybox(
                "hungry", ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"], memoryMiB: 64,
                timeout: .seconds(30)))
            let result = await runner.invoke("hungry", payload: ByteBuffer(string: "{}"), includeLog: true)
            guard case .functionError(let report) = result.outcome else {
                Issue.record("expected a function error, got \(result.outcome)")
                return
            }
            #expect(report.errorType == "Runtime.OutOfMemory")
            #expect(report.errorMessage.contains("out of memory"))
            #expect(result.log?.contains("Error Type: Runtime.OutOfMemory") == true)
        }
    }

    @Test("past the reserved concurrency an invocation is refused with 429's reason")
    func reservedConcurrency() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.busybox(
                "one-at-a-time", ["sh", "-c", "cat; sleep 2"], timeout: .seconds(20), reserved: 1))
            let first = Task { await runner.invoke("one-at-a-time", payload: ByteBuffer(string: "first")) }
            try await eventually(timeout: .seconds(5)) { runner.inFlight("one-at-a-time") == 1 }
            let second = await runner.invoke("one-at-a-time", payload: ByteBuffer(string: "second"))
            guard case .rejected(.reservedConcurrencyExceeded(let limit)) = second.outcome else {
                Issue.record("expected a rejection, got \(second.outcome)")
                return
            }
            #expect(limit == 1)
            #expect(await first.value.bodyText == "first")
            #expect(runner.inFlight() == 0)
            let third = await runner.invoke("one-at-a-time", payload: ByteBuffer(string: "third"))
            #expect(third.bodyText == "third")
        }
    }

    @Test("concurrent invocations each get their own output")
    func concurrent() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.upper("upper-many", reserved: 8))
            let results = await withTaskGroup(of: (String, InvocationResult).self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let text = "call number \(i) " + String(repeating: "x", count: i * 1000)
                        return (text, await runner.invoke("upper-many", payload: ByteBuffer(string: text)))
                    }
                }
                var all: [(String, InvocationResult)] = []
                for await pair in group { all.append(pair) }
                return all
            }
            #expect(results.count == 8)
            for (text, result) in results {
                #expect(result.bodyText == text.uppercased())
            }
            #expect(Set(results.map(\.1.requestID)).count == 8)
        }
    }

    @Test("the container is locked down, has no network, and sees the Lambda variables")
    func lockedDown() async throws {
        let inspected = Mutex<[ContainerInspect]>([])
        try await CommandTestSupport.withRunner(beforeRemoval: { runner, id in
            if let inspect = try? await runner.engine.inspectContainer(id) { inspected.withLock { $0.append(inspect) } }
        }) { runner in
            runner.deploy(CommandTestSupport.busybox(
                "env-printer", ["sh", "-c", "cat >/dev/null; env; id -u; id -g"], memoryMiB: 256,
                environment: ["GREETING": "hi", "AWS_REGION": "nope"]))
            let result = await runner.invoke("env-printer", payload: ByteBuffer(string: "{}"))
            let output = try #require(result.bodyText)
            #expect(output.contains("AWS_LAMBDA_REQUEST_ID=\(result.requestID)\n"))
            #expect(output.contains("AWS_LAMBDA_FUNCTION_NAME=env-printer\n"))
            #expect(output.contains("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256\n"))
            #expect(output.contains("AWS_LAMBDA_FUNCTION_VERSION=$LATEST\n"))
            #expect(output.contains("AWS_REGION=us-east-1\n"))
            #expect(output.contains("TZ=:UTC\n"))
            #expect(output.contains("GREETING=hi\n"))
            #expect(output.hasSuffix("993\n990\n"))

            let inspect = try #require(inspected.withLock { $0.first })
            let host = try #require(inspect.hostConfig)
            #expect(host.networkMode == "none")
            #expect(host.readonlyRootfs == true)
            #expect(host.capDrop == ["ALL"])
            #expect(host.securityOpt?.contains("no-new-privileges") == true)
            #expect(host.memory == 256 << 20)
            #expect(host.memorySwap == 256 << 20)
            #expect(host.nanoCpus == Int64((256 * 1.048576 / 1769 * 1e9).rounded()))
            #expect(host.pidsLimit == 1024)
            #expect(host.tmpfs?["/tmp"]?.contains("size=") == true)
            #expect(inspect.config?.user == "993:990")
            #expect(inspect.config?.openStdin == true)
            #expect(inspect.config?.labels?["tandem.mode"] == "function")
            #expect(inspect.config?.labels?["tandem.workload"] == "env-printer")
            #expect(inspect.config?.labels?["tandem.contract"] == "command")
            #expect(inspect.networkSettings?.networks?.keys.contains("bridge") != true)
        }
    }

    @Test("shutdown kills invocations in flight, removes their containers, and refuses new ones")
    func shutdown() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(CommandTestSupport.busybox("long", ["sh", "-c", "cat >/dev/null; sleep 30"], timeout: .seconds(60)))
            let call = Task { await runner.invoke("long", payload: ByteBuffer(string: "{}")) }
            try await eventually(timeout: .seconds(5)) { runner.inFlight("long") == 1 }
            try await Task.sleep(for: .milliseconds(300))
            await runner.shutdown()
            let result = await call.value
            guard case .failed(.shuttingDown) = result.outcome else {
                Issue.record("expected shuttingDown, got \(result.outcome)")
                return
            }
            let refused = await runner.invoke("long", payload: ByteBuffer(string: "{}"))
            guard case .failed(.shuttingDown) = refused.outcome else {
                Issue.record("expected shuttingDown, got \(refused.outcome)")
                return
            }
        }
    }

    @Test("an unknown function is refused without touching the engine")
    func unknown() async throws {
        try await CommandTestSupport.withRunner { runner in
            let result = await runner.invoke("nobody", payload: ByteBuffer(string: "{}"))
            guard case .rejected(.unknownFunction) = result.outcome else {
                Issue.record("expected unknownFunction, got \(result.outcome)")
                return
            }
        }
    }

    @Test("an image that does not exist fails the invocation and leaves nothing behind")
    func missingImage() async throws {
        try await CommandTestSupport.withRunner { runner in
            runner.deploy(FunctionDefinition(name: "ghost", image: "tandem-test/no-such-image:latest"))
            let result = await runner.invoke("ghost", payload: ByteBuffer(string: "{}"))
            guard case .failed(.environmentUnavailable) = result.outcome else {
                Issue.record("expected environmentUnavailable, got \(result.outcome)")
                return
            }
        }
    }
}

/// The pure mapping from a process's end to an outcome.
@Suite("Command outcomes")
struct CommandOutcomeTests {
    @Test("exit 0 is the response; past 6 MB it is too large")
    func success() {
        guard case .response(let body) = CommandOutcome.make(
            exitCode: 0, outOfMemory: false, stdout: Array("ok".utf8), stdoutBytes: 2, lastStderrLine: "log")
        else {
            Issue.record("expected a response")
            return
        }
        #expect(String(buffer: body) == "ok")
        guard case .responseTooLarge(let bytes) = CommandOutcome.make(
            exitCode: 0, outOfMemory: false, stdout: [], stdoutBytes: 7_000_000, lastStderrLine: nil)
        else {
            Issue.record("expected responseTooLarge")
            return
        }
        #expect(bytes == 7_000_000)
    }

    @Test("non-zero exits, signals and OOM kills become function errors")
    func errors() {
        func report(_ code: Int, _ oom: Bool, _ line: String?) -> RuntimeErrorReport? {
            if case .functionError(let report) = CommandOutcome.make(
                exitCode: code, outOfMemory: oom, stdout: [], stdoutBytes: 0, lastStderrLine: line)
            {
                return report
            }
            return nil
        }
        #expect(report(3, false, "boom")?.errorMessage == "exit status 3: boom")
        #expect(report(3, false, nil)?.errorMessage == "exit status 3")
        #expect(report(3, false, nil)?.errorType == "Runtime.ExitError")
        #expect(report(137, false, nil)?.errorMessage == "signal: killed")
        #expect(report(137, true, nil)?.errorType == "Runtime.OutOfMemory")
        #expect(report(0, true, nil)?.errorType == "Runtime.OutOfMemory")
        let body = report(1, false, "say \"no\"").map { String(decoding: $0.body, as: UTF8.self) }
        #expect(body == #"{"errorMessage":"exit status 1: say \"no\"","errorType":"Runtime.ExitError"}"#)
    }

    @Test("the last stderr line skips blank lines")
    func lastLine() {
        #expect(CommandOutcome.lastLine(of: "a\nb\n\n  \n") == "b")
        #expect(CommandOutcome.lastLine(of: "\n") == nil)
    }

    @Test("the log keeps stderr lines, joins split lines, and ends with END and REPORT")
    func log() {
        var log = CommandLog(function: "f", requestID: InvocationID("r1"), observer: nil)
        log.start()
        log.stderr(Array("one\ntw".utf8))
        log.stderr(Array("o\nthree".utf8))
        let text = log.finish(note: nil, report: nil)
        #expect(text == "START RequestId: r1 Version: $LATEST\none\ntwo\nthree\nEND RequestId: r1\n")
        #expect(log.lastStderrLine == "three")
    }
}

enum CommandTestSupport {
    static let upperImage = "tandem/upper-command:latest"
    static let busyboxImage = TestImages.busybox

    static func upper(_ name: String, reserved: Int? = nil) -> FunctionDefinition {
        FunctionDefinition(name: name, image: upperImage, timeout: .seconds(20), reservedConcurrency: reserved)
    }

    static func busybox(
        _ name: String, _ command: [String], memoryMiB: Int = 512, timeout: Duration = .seconds(20),
        reserved: Int? = nil, environment: [String: String] = [:]
    ) -> FunctionDefinition {
        FunctionDefinition(
            name: name, image: busyboxImage, command: command, environment: environment, memoryMiB: memoryMiB,
            timeout: timeout, reservedConcurrency: reserved)
    }

    /// A runner on the real engine; every container it started is gone afterwards.
    static func withRunner(
        observer: (any FunctionHostObserver)? = nil,
        beforeRemoval: (@Sendable (CommandFunctions, String) async -> Void)? = nil,
        _ body: (CommandFunctions) async throws -> Void
    ) async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.folder("images/upper-command", tag: upperImage, engine: engine)
        try await TestImages.shared.busybox(engine: engine)
        let project = "test-\(UUID().uuidString.prefix(8).lowercased())"
        let settings = FunctionHostSettings(globalConcurrency: 16, project: project)
        let hook = HookBox()
        var removalHook: (@Sendable (String) async -> Void)?
        if let beforeRemoval {
            removalHook = { @Sendable (id: String) async -> Void in
                if let runner = hook.runner { await beforeRemoval(runner, id) }
            }
        }
        let runner = CommandFunctions(
            engine: engine, settings: settings, observer: observer, beforeRemoval: removalHook)
        hook.runner = runner
        do {
            try await body(runner)
        } catch {
            await runner.shutdown()
            try await FunctionHostFixture.assertNoLeftovers(engine, project: project)
            throw error
        }
        await runner.waitForCleanup()
        try await FunctionHostFixture.assertNoLeftovers(engine, project: project)
    }

    /// Lets the removal hook reach the runner it belongs to.
    final class HookBox: @unchecked Sendable {
        private let lock = NSLock()
        private weak var _runner: CommandFunctions?
        var runner: CommandFunctions? {
            get { lock.withLock { _runner } }
            set { lock.withLock { _runner = newValue } }
        }
    }
}
