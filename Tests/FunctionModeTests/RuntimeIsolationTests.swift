import Engine
import Foundation
import NIOCore
import Testing
import TestSupport
@testable import FunctionMode

/// The hostile probe's first finding, performed for real: a function (a busybox
/// shell runtime running the attacker's commands) goes for another function's
/// Runtime API endpoint — of its own project and of a second project running
/// beside it — to take and answer the victim's invocations.
@Suite("Runtime API isolation against a hostile function", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct RuntimeIsolationTests {
    static let shellImage = "tandem/shell-function:latest"

    static func attacker(_ name: String) -> FunctionDefinition {
        FunctionDefinition(name: name, image: shellImage, handler: "probe.handler", memoryMiB: 128, timeout: .seconds(20))
    }

    /// Runs `command` inside the attacker function; its output.
    static func run(_ command: String, in attacker: String, on host: FunctionHost) async -> String {
        let result = await host.invoke(attacker, payload: ByteBuffer(string: "\"\(command)\""))
        return result.bodyText ?? "\(result.outcome)"
    }

    /// The attack: park on the victim's `/next` while the victim is invoked,
    /// and post an answer for the invocation the victim is handling. Every
    /// victim call must get the victim's own answer, and the attacker nothing.
    static func attack(victim: FunctionHost, attackerHost: FunctionHost, attacker: String) async throws {
        let warm = await victim.invoke("victim", payload: ByteBuffer(string: #"{"echo":"warm"}"#))
        #expect(warm.bodyText == #""warm""#)
        let env = try #require(warm.environment)
        let address = try #require(victim.runtimeAPIAddress(of: env))

        // 1. Park on the victim's /next, and invoke the victim meanwhile.
        let next = "timeout 6 wget -S -O - http://\(address)/2018-06-01/runtime/invocation/next"
        async let stolen = run(next, in: attacker, on: attackerHost)
        try await Task.sleep(for: .seconds(1))
        for n in 0..<3 {
            let answer = await victim.invoke("victim", payload: ByteBuffer(string: #"{"echo":\#(n)}"#))
            #expect(answer.bodyText == "\(n)", "the victim's caller got \(answer.outcome)")
        }
        let parked = await stolen
        #expect(!parked.contains("Lambda-Runtime-Aws-Request-Id"), "the attacker received an invocation: \(parked)")
        #expect(!parked.contains("probe-exit=0"), "the attacker's /next succeeded: \(parked)")

        // 2. Answer the invocation the victim is handling.
        async let slow = victim.invoke("victim", payload: ByteBuffer(string: #"{"sleep_ms":1500,"echo":"mine"}"#))
        var current: InvocationID?
        for _ in 0..<100 where current == nil {
            current = victim.currentInvocation(of: env)
            if current == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let id = try #require(current)
        let post = "timeout 6 wget -S -O - --post-data=stolen http://\(address)/2018-06-01/runtime/invocation/\(id.rawValue)/response"
        let posted = await run(post, in: attacker, on: attackerHost)
        #expect(!posted.contains("202"), "the attacker's answer was accepted: \(posted)")
        #expect(await slow.bodyText == #""mine""#)
    }

    @Test("a function cannot take or answer another function's invocations through its Runtime API")
    func sameProject() async throws {
        try await FunctionHostFixture.withHost { host in
            try await TestImages.shared.folder("images/shell-function", tag: Self.shellImage, engine: host.engine)
            host.deploy(FunctionTestSupport.echo("victim"))
            host.deploy(Self.attacker("attacker"))
            try await Self.attack(victim: host, attackerHost: host, attacker: "attacker")

            // The host's own processes (any user of the machine) get nothing either.
            let env = try #require(host.environmentViews.first { $0.function == "victim" }?.id)
            let address = try #require(host.runtimeAPIAddress(of: env))
            let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://\(address)"))
            await #expect(throws: (any Error).self) {
                try await client.execute(HTTPRequest(path: "/2018-06-01/runtime/invocation/next", timeout: .seconds(3)))
            }
            // And the victim still works.
            #expect(await host.invoke("victim", payload: ByteBuffer(string: #"{"echo":"after"}"#)).bodyText == #""after""#)
        }
    }

    @Test("an abandoned /next on another function's endpoint leaves it answering, round after round (no hang, no 429)")
    func abandonedNext() async throws {
        try await FunctionHostFixture.withHost { host in
            try await TestImages.shared.folder("images/shell-function", tag: Self.shellImage, engine: host.engine)
            var victim = FunctionTestSupport.echo("victim", timeout: .seconds(5))
            victim.reservedConcurrency = 2
            host.deploy(victim)
            host.deploy(Self.attacker("attacker"))
            let warm = await host.invoke("victim", payload: ByteBuffer(string: #"{"echo":0}"#))
            let address = try #require(warm.environment.flatMap { host.runtimeAPIAddress(of: $0) })
            for round in 1...5 {
                _ = await Self.run(
                    "timeout 2 wget -q -O - http://\(address)/2018-06-01/runtime/invocation/next", in: "attacker", on: host)
                let started = ContinuousClock.now
                let answer = await host.invoke("victim", payload: ByteBuffer(string: #"{"echo":\#(round)}"#))
                #expect(answer.bodyText == "\(round)", "round \(round): \(answer.outcome)")
                #expect(ContinuousClock.now - started < .seconds(4), "round \(round) took \(ContinuousClock.now - started)")
            }
        }
    }

    @Test("a stray /next from the function's own processes neither steals its next invocation nor wedges it")
    func strayNextInside() async throws {
        try await FunctionHostFixture.withHost { host in
            try await TestImages.shared.folder("images/shell-function", tag: Self.shellImage, engine: host.engine)
            var probe = Self.attacker("probe")
            probe.timeout = .seconds(5)
            host.deploy(probe)
            for round in 1...3 {
                // A background request for work, parked before the runtime's own.
                let stray = "timeout 3 wget -q -O /dev/null http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next "
                    + ">/dev/null 2>&1 & sleep 0.2; echo stray-\(round)"
                #expect(await Self.run(stray, in: "probe", on: host).contains("stray-\(round)"))
                let started = ContinuousClock.now
                let alive = await Self.run("echo alive-\(round)", in: "probe", on: host)
                #expect(alive.contains("alive-\(round)"), "round \(round): \(alive)")
                #expect(ContinuousClock.now - started < .seconds(4), "round \(round) took \(ContinuousClock.now - started)")
            }
        }
    }

    @Test("a function of a second project running beside the first cannot reach the first one's invocations")
    func secondProject() async throws {
        try await FunctionHostFixture.withHost { first in
            first.deploy(FunctionTestSupport.echo("victim"))
            try await FunctionHostFixture.withHost { second in
                try await TestImages.shared.folder("images/shell-function", tag: Self.shellImage, engine: second.engine)
                second.deploy(Self.attacker("intruder"))
                try await Self.attack(victim: first, attackerHost: second, attacker: "intruder")
            }
        }
    }
}
