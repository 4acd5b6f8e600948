import Engine
import Foundation
import NIOCore
import Synchronization
import NIOPosix
import Testing
import TestSupport
@testable import FunctionMode

/// Function mode against the real engine, with the echo-function image.
@Suite("Function host against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct FunctionHostTests {
    @Test("a first invocation is cold with an init duration; the next is warm in the same environment")
    func coldThenWarm() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("cold-warm"))
            let first = await host.invoke("cold-warm", payload: ByteBuffer(string: #"{"echo":"one"}"#))
            #expect(first.bodyText == #""one""#)
            #expect(first.initDuration != nil)
            let second = await host.invoke("cold-warm", payload: ByteBuffer(string: #"{"echo":"two"}"#))
            #expect(second.bodyText == #""two""#)
            #expect(second.initDuration == nil)
            #expect(second.environment == first.environment)
        }
    }

    @Test("a handler error comes back as the runtime's error document")
    func handlerError() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("fails"))
            let result = await host.invoke("fails", payload: ByteBuffer(string: #"{"fail":"no thumbnails today"}"#))
            guard case .functionError(let report) = result.outcome else {
                Issue.record("expected a function error, got \(result.outcome)")
                return
            }
            #expect(report.errorMessage.contains("no thumbnails today"))
        }
    }

    @Test("an invocation past its timeout fails with Lambda's message and the next one gets a fresh environment")
    func timeout() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("slow", timeout: .seconds(1)))
            let result = await host.invoke("slow", payload: ByteBuffer(string: #"{"sleep_ms":5000}"#))
            guard case .failed(.timedOut(let after)) = result.outcome else {
                Issue.record("expected a timeout, got \(result.outcome)")
                return
            }
            #expect(after == .seconds(1))
            #expect(result.errorDocument?.body.contains("Task timed out after 1.00 seconds") == true)
            let next = await host.invoke("slow", payload: ByteBuffer(string: #"{"echo":1}"#))
            #expect(next.bodyText == "1")
            #expect(next.environment != result.environment)
        }
    }

    @Test("a runtime that exits mid-invocation reports Runtime.ExitError with its status")
    func crash() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("crashes"))
            let result = await host.invoke("crashes", payload: ByteBuffer(string: #"{"exit":3}"#))
            guard case .failed(.runtimeExited(let code, let oom)) = result.outcome else {
                Issue.record("expected the runtime to exit, got \(result.outcome)")
                return
            }
            #expect(code == 3)
            #expect(!oom)
            #expect(result.errorDocument?.errorType == "Runtime.ExitError")
        }
    }

    @Test("a function that allocates past its memory is reported out of memory")
    func outOfMemory() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("hungry", memoryMiB: 128))
            let result = await host.invoke("hungry", payload: ByteBuffer(string: #"{"allocate_mb":400}"#))
            guard case .failed(.runtimeExited(_, let oom)) = result.outcome else {
                Issue.record("expected the runtime to be killed, got \(result.outcome)")
                return
            }
            #expect(oom)
            #expect(result.errorDocument?.errorType == "Runtime.OutOfMemory")
        }
    }

    @Test("an init error fails the invocation with the runtime's error type")
    func initError() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("broken", environment: ["ECHO_INIT_FAIL": "1"]))
            let result = await host.invoke("broken", payload: ByteBuffer(string: "{}"))
            guard case .failed(.initFailed(let type, _)) = result.outcome else {
                Issue.record("expected an init failure, got \(result.outcome)")
                return
            }
            #expect(!type.isEmpty)
        }
    }

    @Test("an idle environment is paused after the grace, thawed for the next call, and locked down")
    func pausedAndLockedDown() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("frozen", memoryMiB: 256))
            let first = await host.invoke("frozen", payload: ByteBuffer(string: #"{"echo":1}"#))
            let env = try #require(first.environment)
            let container = try #require(host.containerID(of: env))
            // Frozen after the 50 ms grace (allow for a loaded machine).
            try await eventually(timeout: .seconds(10)) {
                host.environmentViews.first { $0.id == env }?.phase == .frozen
            }
            let inspect = try await host.engine.inspectContainer(container)
            #expect(inspect.state.paused)
            let config = try #require(inspect.hostConfig)
            #expect(config.readonlyRootfs == true)
            #expect(config.capDrop == ["ALL"])
            #expect(config.securityOpt?.contains("no-new-privileges") == true)
            #expect(config.memory == 256 << 20)
            #expect(config.pidsLimit == 1024)
            #expect(config.tmpfs?["/tmp"]?.contains("size=") == true)
            #expect(inspect.config?.env?.contains("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256") == true)
            #expect(inspect.config?.labels?["tandem.mode"] == "function")
            let second = await host.invoke("frozen", payload: ByteBuffer(string: #"{"echo":2}"#))
            #expect(second.bodyText == "2")
            #expect(second.environment == env)
        }
    }

    @Test("scale-out stops at the reserved concurrency and the next caller gets a 429")
    func reservedConcurrency() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("limited", reserved: 2))
            let results = await withTaskGroup(of: InvocationResult.self) { group in
                for _ in 0..<3 {
                    group.addTask { await host.invoke("limited", payload: ByteBuffer(string: #"{"sleep_ms":1500}"#)) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let rejected = results.filter { if case .rejected(.reservedConcurrencyExceeded(2)) = $0.outcome { true } else { false } }
            let answered = results.filter { if case .response = $0.outcome { true } else { false } }
            #expect(rejected.count == 1)
            #expect(answered.count == 2)
        }
    }

    @Test("an idle environment is reaped: scale to zero")
    func reap() async throws {
        try await FunctionTestSupport.withHost(reapAfter: .seconds(1)) { host in
            host.deploy(FunctionTestSupport.echo("reaped"))
            let result = await host.invoke("reaped", payload: ByteBuffer(string: "{}"))
            let env = try #require(result.environment)
            let container = try #require(host.containerID(of: env))
            try await eventually(timeout: .seconds(10)) { host.environmentViews.isEmpty }
            await #expect(throws: EngineError.self) { _ = try await host.engine.inspectContainer(container) }
        }
    }

    @Test("provisioned environments are ready before the first request, which is then not a cold start")
    func provisioned() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("ready", provisioned: 1))
            try await eventually(timeout: .seconds(15)) {
                host.environmentViews.contains { $0.phase == .idle || $0.phase == .frozen }
            }
            let result = await host.invoke("ready", payload: ByteBuffer(string: #"{"echo":"hot"}"#))
            #expect(result.bodyText == #""hot""#)
            #expect(result.initDuration == nil)
        }
    }

    @Test("another environment's request id is refused with 403 on this environment's endpoint, from inside it")
    func isolation() async throws {
        try await FunctionTestSupport.withHost { host in
            try await TestImages.shared.folder(
                "images/shell-function", tag: RuntimeIsolationTests.shellImage, engine: host.engine)
            var probe = RuntimeIsolationTests.attacker("isolated")
            probe.reservedConcurrency = 2
            host.deploy(probe)
            async let slow = RuntimeIsolationTests.run("sleep 3; echo slow-done", in: "isolated", on: host)
            try await eventually(timeout: .seconds(15)) {
                host.environmentViews.contains { $0.phase == .busy }
            }
            let a = try #require(host.environmentViews.first { $0.phase == .busy }?.id)
            let requestOfA = try #require(host.currentInvocation(of: a))
            // Environment B's own processes post an answer for A's invocation, and one for a made-up id.
            let post = "wget -S -O - --post-data=stolen http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
            let stolen = await RuntimeIsolationTests.run(
                "\(post)/\(requestOfA.rawValue)/response; \(post)/not-a-request/response", in: "isolated", on: host)
            #expect(stolen.contains("403 Forbidden"), "\(stolen)")
            #expect(stolen.contains("400 Bad Request"), "\(stolen)")
            #expect(await slow.contains("slow-done"))
        }
    }

    @Test("100 concurrent invocations: every caller gets its own answer exactly once")
    func hundredConcurrent() async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("many", memoryMiB: 256, reserved: 8))
            let answers = await withTaskGroup(of: (Int, String?).self) { group in
                for i in 0..<100 {
                    group.addTask {
                        // Lambda answers 429 past the reserved concurrency; callers retry.
                        for _ in 0..<1500 {
                            let result = await host.invoke("many", payload: ByteBuffer(string: #"{"echo":\#(i)}"#))
                            if case .rejected = result.outcome {
                                try? await Task.sleep(for: .milliseconds(20))
                                continue
                            }
                            return (i, result.bodyText)
                        }
                        return (i, nil)
                    }
                }
                return await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == 100)
            for i in 0..<100 { #expect(answers[i] == .some("\(i)"), "caller \(i)") }
            #expect(host.environmentViews.count <= 8)
        }
    }
}

extension InvocationResult {
    var bodyText: String? {
        if case .response(let buffer) = outcome { return String(buffer: buffer) }
        return nil
    }
}

enum FunctionTestSupport {
    static let image = FunctionHostFixture.echoImage


    static func echo(
        _ name: String, timeout: Duration = .seconds(10), memoryMiB: Int = 512, reserved: Int? = nil,
        provisioned: Int = 0, environment: [String: String] = [:]
    ) -> FunctionDefinition {
        FunctionDefinition(
            name: name, image: image, environment: environment, memoryMiB: memoryMiB, timeout: timeout,
            reservedConcurrency: reserved, provisionedConcurrency: provisioned)
    }

    /// A host on the real engine with the echo-function image.
    static func withHost(
        reapAfter: Duration = .seconds(60), observer: (any FunctionHostObserver)? = nil,
        _ body: (FunctionHost) async throws -> Void
    ) async throws {
        try await FunctionHostFixture.withHost(
            settings: FunctionHostSettings(globalConcurrency: 16, reapAfter: reapAfter), observer: observer, body)
    }
}

/// Collects what a host reports, for the log and ledger tests.
final class RecordingObserver: FunctionHostObserver {
    private let state = Mutex<(lines: [String: [String]], reports: [InvocationReport])>(([:], []))

    func functionLog(_ function: String, lines: [LogLine]) {
        state.withLock { $0.lines[function, default: []] += lines.map(\.text) }
    }

    func invocationReported(_ report: InvocationReport) {
        state.withLock { $0.reports.append(report) }
    }

    func lines(_ function: String) -> [String] { state.withLock { $0.lines[function] ?? [] } }
    var reports: [InvocationReport] { state.withLock { $0.reports } }
}

@Suite("Function logs and reports against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct FunctionLogTests {
    @Test("each invocation is logged START, the function's output, END, REPORT with measured memory")
    func logAndReport() async throws {
        let observer = RecordingObserver()
        try await FunctionTestSupport.withHost(observer: observer) { host in
            host.deploy(FunctionTestSupport.echo("logged", memoryMiB: 256))
            let cold = await host.invoke(
                "logged", payload: ByteBuffer(string: #"{"print":"hello from the handler","echo":1}"#), includeLog: true)
            let log = try #require(cold.log)
            let lines = log.split(separator: "\n").map(String.init)
            #expect(lines.first == "START RequestId: \(cold.requestID) Version: $LATEST")
            #expect(lines.contains("hello from the handler"))
            #expect(lines.contains("END RequestId: \(cold.requestID)"))
            let report = try #require(lines.last)
            #expect(report.hasPrefix("REPORT RequestId: \(cold.requestID)\tDuration: "))
            #expect(report.contains("\tBilled Duration: "))
            #expect(report.contains("\tMemory Size: 256 MB"))
            #expect(report.contains("\tMax Memory Used: "))
            #expect(report.contains("\tInit Duration: "))
            let warm = await host.invoke("logged", payload: ByteBuffer(string: #"{"echo":2}"#), includeLog: true)
            #expect(warm.log?.contains("Init Duration") == false)
            host.deploy(FunctionTestSupport.echo("logged-slow", timeout: .seconds(1)))
            let timedOut = await host.invoke("logged-slow", payload: ByteBuffer(string: #"{"sleep_ms":20000}"#), includeLog: true)
            let timeoutLog = try #require(timedOut.log)
            #expect(timeoutLog.contains("Task timed out after 1.00 seconds"))
            #expect(timeoutLog.contains("\tStatus: timeout"))
            try await eventually(timeout: .seconds(5)) { observer.reports.count >= 2 }
            let first = try #require(observer.reports.first { $0.requestID == cold.requestID })
            #expect(first.cold)
            #expect(first.outcome == .success)
            #expect(first.memorySizeMiB == 256)
            #expect((first.maxMemoryUsedMiB ?? 0) > 0)
            #expect(first.billedMilliseconds >= 1)
            #expect(observer.lines("logged").contains("hello from the handler"))
        }
    }
}
