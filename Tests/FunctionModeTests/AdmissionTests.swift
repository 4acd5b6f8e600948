import Engine
import NIOCore
import Foundation
import Testing
import TestSupport
@testable import FunctionMode

private let t0 = ContinuousClock.Instant.now

private func pool(max: Int = 10) -> PoolSettings {
    PoolSettings(maxEnvironments: max, provisioned: 0, freezeGrace: .milliseconds(50), reapAfter: .seconds(60),
                 timeout: .seconds(3), initTimeout: .seconds(10))
}

/// One machine-wide limit for function environments and command containers
/// (pure: no container is started).
@Suite("Admission: one machine-wide limit")
struct AdmissionTests {
    @Test("slots are reserved up to the limit and come back on release")
    func reserveRelease() {
        let admission = Admission(limit: 2)
        #expect(admission.tryReserve(.commandContainers))
        admission.setHeld(1, by: .functionEnvironments)
        #expect(!admission.tryReserve(.commandContainers))
        #expect(admission.held == 2)
        #expect(admission.held(byOthersThan: .functionEnvironments) == 1)
        admission.release(.commandContainers)
        #expect(admission.held == 1)
        #expect(admission.tryReserve(.commandContainers))
    }

    @Test("1 environment + 1 command container, limit 2: a new environment is refused with the global limit's 429")
    func fleetCountsOthers() throws {
        let admission = Admission(limit: 2)
        var fleet = FleetState(globalLimit: 2)
        _ = fleet.configure("a", pool(), now: t0)
        _ = fleet.configure("b", pool(), now: t0)
        // One environment of `a`…
        let first = fleet.invoke(InvocationID("1"), function: "a", now: t0)
        #expect(first.contains { if case .startEnvironment = $0 { true } else { false } })
        admission.setHeld(fleet.liveEnvironments, by: .functionEnvironments)
        // …and one command container.
        #expect(admission.tryReserve(.commandContainers))
        fleet.slotsHeldElsewhere = admission.held(byOthersThan: .functionEnvironments)
        let third = fleet.invoke(InvocationID("2"), function: "b", now: t0)
        #expect(third == [.reject(InvocationID("2"), .globalConcurrencyExceeded(limit: 2))])
        // Without the command container the same invocation starts an environment.
        admission.release(.commandContainers)
        fleet.slotsHeldElsewhere = admission.held(byOthersThan: .functionEnvironments)
        let again = fleet.invoke(InvocationID("3"), function: "b", now: t0)
        #expect(again.contains { if case .startEnvironment = $0 { true } else { false } })
    }

    @Test("1 environment + 1 command container, limit 2: a second command is refused with the global limit's 429")
    func commandsCountEnvironments() async throws {
        let admission = Admission(limit: 2)
        admission.setHeld(1, by: .functionEnvironments)
        #expect(admission.tryReserve(.commandContainers))
        // Refused before any engine call: the socket need not exist.
        let engine = try EngineClient(socketPath: "/nonexistent/tandem-admission-test.sock")
        let commands = CommandFunctions(
            engine: engine, settings: FunctionHostSettings(globalConcurrency: 2), admission: admission)
        commands.deploy(FunctionDefinition(name: "upper", image: "tandem/upper-command:latest"))
        let result = await commands.invoke("upper", payload: ByteBuffer(string: "\"x\""))
        guard case .rejected(.globalConcurrencyExceeded(let limit)) = result.outcome else {
            Issue.record("expected the global limit's refusal, got \(result.outcome)")
            return
        }
        #expect(limit == 2)
        #expect(admission.held == 2)
        #expect(commands.inFlight() == 0)
    }
}

/// The same limit against the real engine: a function environment and a
/// running command container fill a limit of 2.
@Suite("Admission against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct AdmissionEngineTests {
    @Test("1 environment + 1 command container with limit 2: a third is refused with the global limit's 429, whichever runner asks")
    func sharedLimit() async throws {
        let admission = Admission(limit: 2)
        let settings = FunctionHostSettings(globalConcurrency: 2, reapAfter: .seconds(60))
        try await FunctionHostFixture.withHost(settings: settings, admission: admission) { host in
            try await TestImages.shared.busybox(engine: host.engine)
            host.deploy(FunctionTestSupport.echo("first"))
            host.deploy(FunctionTestSupport.echo("second"))
            let warm = await host.invoke("first", payload: ByteBuffer(string: #"{"echo":1}"#))
            #expect(warm.bodyText == "1")
            let commands = CommandFunctions(engine: host.engine, settings: host.settings, admission: admission)
            commands.deploy(CommandTestSupport.busybox("long", ["sh", "-c", "cat >/dev/null; sleep 30"], timeout: .seconds(60)))
            let running = Task { await commands.invoke("long", payload: ByteBuffer(string: "{}")) }
            try await eventually(timeout: .seconds(10)) { commands.inFlight() == 1 }
            #expect(admission.held == 2)

            let third = await host.invoke("second", payload: ByteBuffer(string: "{}"))
            #expect(third.outcome.rejection == .globalConcurrencyExceeded(limit: 2))
            let fourth = await commands.invoke("long", payload: ByteBuffer(string: "{}"))
            #expect(fourth.outcome.rejection == .globalConcurrencyExceeded(limit: 2))

            await commands.shutdown()
            _ = await running.value
            #expect(admission.held == 1)
        }
    }
}

extension InvocationOutcome {
    var rejection: Rejection? {
        if case .rejected(let rejection) = self { rejection } else { nil }
    }
}
