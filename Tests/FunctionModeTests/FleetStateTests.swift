import Testing
@testable import FunctionMode

private let t0 = ContinuousClock.Instant.now

private func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

private func inv(_ n: Int) -> InvocationID { InvocationID("req-\(n)") }

private func started(_ actions: [FleetAction]) -> [EnvironmentID] {
    actions.compactMap { if case .startEnvironment(_, let id, _) = $0 { id } else { nil } }
}

private func fleet(max: Int = 3, provisioned: Int = 0, global: Int = 100, timeout: Duration = .seconds(3)) -> FleetState {
    var fleet = FleetState(globalLimit: global)
    _ = fleet.configure("fn", PoolSettings(maxEnvironments: max, provisioned: provisioned,
                                           freezeGrace: .milliseconds(50), reapAfter: .seconds(60),
                                           timeout: timeout, initTimeout: .seconds(10)), now: at(0))
    return fleet
}

@Suite("Function fleet decisions")
struct FleetStateTests {
    @Test("a first invocation starts an environment and is delivered cold with its init duration")
    func coldStart() throws {
        var f = fleet()
        let actions = f.invoke(inv(1), function: "fn", now: at(0))
        let env = try #require(started(actions).first)
        #expect(f.pendingCount("fn") == 1)
        let delivered = f.runtimeRequestedNext(env, now: at(120))
        #expect(delivered == [.deliver(inv(1), to: env, cold: true, initDuration: .milliseconds(120))])
        #expect(f.runtimeFinished(inv(1), in: env, now: at(130)) == .accepted)
    }

    @Test("a second invocation reuses the warm environment")
    func warm() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        _ = f.runtimeFinished(inv(1), in: env, now: at(110))
        // Assigned before the runtime asks again: delivered when it does.
        #expect(f.invoke(inv(2), function: "fn", now: at(111)) == [])
        #expect(f.runtimeRequestedNext(env, now: at(112)) == [.deliver(inv(2), to: env, cold: false, initDuration: nil)])
        #expect(f.environmentCount == 1)
    }

    @Test("scale-out stops at the reserved concurrency with a 429")
    func reservedLimit() {
        var f = fleet(max: 2)
        #expect(started(f.invoke(inv(1), function: "fn", now: at(0))).count == 1)
        #expect(started(f.invoke(inv(2), function: "fn", now: at(1))).count == 1)
        #expect(f.invoke(inv(3), function: "fn", now: at(2)) == [.reject(inv(3), .reservedConcurrencyExceeded(limit: 2))])
    }

    @Test("the controller-wide limit is shared by all functions")
    func globalLimit() {
        var f = FleetState(globalLimit: 1)
        _ = f.configure("a", PoolSettings(maxEnvironments: 5), now: at(0))
        _ = f.configure("b", PoolSettings(maxEnvironments: 5), now: at(0))
        #expect(started(f.invoke(inv(1), function: "a", now: at(0))).count == 1)
        #expect(f.invoke(inv(2), function: "b", now: at(0)) == [.reject(inv(2), .globalConcurrencyExceeded(limit: 1))])
    }

    @Test("reserved concurrency zero throttles every invocation")
    func throttled() {
        var f = fleet(max: 0)
        #expect(f.invoke(inv(1), function: "fn", now: at(0)) == [.reject(inv(1), .throttled)])
        #expect(f.invoke(inv(2), function: "nope", now: at(0)) == [.reject(inv(2), .unknownFunction)])
    }

    @Test("an invocation past its timeout fails and its environment is destroyed")
    func timeout() throws {
        var f = fleet(timeout: .seconds(1))
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        #expect(f.nextDeadline() == at(1100))
        #expect(f.tick(now: at(1099)) == [])
        #expect(f.tick(now: at(1100)) == [.fail(inv(1), .timedOut(after: .seconds(1))), .destroy(env, .timedOut)])
        // A late answer from the killed runtime is refused.
        #expect(f.runtimeFinished(inv(1), in: env, now: at(1101)) == .unknownRequest)
        #expect(f.environmentExited(env, exitCode: 137, outOfMemory: false, now: at(1120)) == [])
        #expect(f.environmentCount == 0)
    }

    @Test("an idle environment freezes after the grace and thaws for the next invocation")
    func freezeThaw() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        _ = f.runtimeFinished(inv(1), in: env, now: at(110))
        _ = f.runtimeRequestedNext(env, now: at(111))
        #expect(f.tick(now: at(150)) == [])
        #expect(f.tick(now: at(161)) == [.freeze(env)])
        #expect(f.frozen(env) == [])
        #expect(f.environmentViews.first?.phase == .frozen)
        #expect(f.invoke(inv(2), function: "fn", now: at(500)) == [.thaw(env)])
        #expect(f.thawed(env, now: at(507)) == [.deliver(inv(2), to: env, cold: false, initDuration: nil)])
    }

    @Test("work that arrives while a pause is in flight thaws the environment as soon as it is frozen")
    func workDuringFreeze() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        _ = f.runtimeFinished(inv(1), in: env, now: at(110))
        _ = f.runtimeRequestedNext(env, now: at(111))
        #expect(f.tick(now: at(200)) == [.freeze(env)])
        #expect(f.invoke(inv(2), function: "fn", now: at(201)) == [])
        #expect(f.frozen(env) == [.thaw(env)])
        #expect(f.thawed(env, now: at(210)) == [.deliver(inv(2), to: env, cold: false, initDuration: nil)])
    }

    @Test("an idle environment is reaped after the idle time: scale to zero")
    func reap() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        _ = f.runtimeFinished(inv(1), in: env, now: at(110))
        _ = f.runtimeRequestedNext(env, now: at(111))
        _ = f.tick(now: at(200))
        _ = f.frozen(env)
        #expect(f.nextDeadline() == at(60_110))
        #expect(f.tick(now: at(60_110)) == [.destroy(env, .idle)])
        #expect(f.environmentExited(env, exitCode: 137, outOfMemory: false, now: at(60_120)) == [])
        #expect(f.environmentCount == 0)
    }

    @Test("provisioned environments start at once, are never reaped, and are replaced when they die")
    func provisioned() throws {
        var f = FleetState(globalLimit: 10)
        let actions = f.configure("fn", PoolSettings(maxEnvironments: 4, provisioned: 2, reapAfter: .seconds(1)), now: at(0))
        #expect(actions.count == 2)
        #expect(actions.allSatisfy { if case .startEnvironment(_, _, .provisioned) = $0 { true } else { false } })
        let envs = started(actions)
        for env in envs { _ = f.runtimeRequestedNext(env, now: at(100)) }
        for env in envs { _ = f.frozen(env) }
        _ = f.tick(now: at(200))
        #expect(!f.tick(now: at(10_000)).contains { if case .destroy = $0 { true } else { false } })
        let replacement = f.environmentExited(envs[0], exitCode: 1, outOfMemory: false, now: at(10_001))
        #expect(started(replacement).count == 1)
    }

    @Test("a runtime may end only its own invocation: another's id is forbidden, an unknown id is refused")
    func isolation() throws {
        var f = fleet()
        let a = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        let b = try #require(started(f.invoke(inv(2), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(a, now: at(100))
        _ = f.runtimeRequestedNext(b, now: at(100))
        #expect(f.runtimeFinished(inv(2), in: a, now: at(101)) == .forbidden)
        #expect(f.runtimeFinished(InvocationID("made-up"), in: a, now: at(101)) == .unknownRequest)
        #expect(f.runtimeFinished(inv(1), in: a, now: at(102)) == .accepted)
        #expect(f.runtimeFinished(inv(1), in: a, now: at(103)) == .unknownRequest)
    }

    @Test("an init error fails the invocation waiting for that environment")
    func initError() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        let actions = f.runtimeInitFailed(env, errorType: "Runtime.Boom", message: "no config")
        #expect(actions == [.destroy(env, .initFailed), .fail(inv(1), .initFailed(errorType: "Runtime.Boom", message: "no config"))])
    }

    @Test("a runtime that exits while handling fails that invocation, out of memory said as such")
    func crash() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        #expect(f.environmentExited(env, exitCode: 137, outOfMemory: true, now: at(150))
            == [.fail(inv(1), .runtimeExited(exitCode: 137, outOfMemory: true))])
        // The next invocation gets a fresh environment.
        #expect(started(f.invoke(inv(2), function: "fn", now: at(200))).count == 1)
    }

    @Test("a runtime that exits before asking for work fails one waiting invocation")
    func exitDuringInit() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        #expect(f.environmentExited(env, exitCode: 2, outOfMemory: false, now: at(50))
            == [.fail(inv(1), .initFailed(errorType: "Runtime.ExitError", message: "Runtime exited with error: exit status 2"))])
    }

    @Test("an environment that never asks for work is given up after the init timeout")
    func initTimeout() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        #expect(f.nextDeadline() == at(10_000))
        let actions = f.tick(now: at(10_000))
        #expect(actions.first == .destroy(env, .initTimedOut))
        #expect(actions.count == 2)
    }

    @Test("an engine failure to start an environment fails one waiting invocation")
    func startFailure() throws {
        var f = fleet()
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        #expect(f.environmentFailedToStart(env, message: "no such image") == [.fail(inv(1), .environmentUnavailable(message: "no such image"))])
        #expect(f.environmentCount == 0)
    }

    @Test("an environment that frees up early takes waiting work, and the late one idles")
    func workStealing() throws {
        var f = fleet()
        let a = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        let b = try #require(started(f.invoke(inv(2), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(a, now: at(100))
        _ = f.runtimeFinished(inv(1), in: a, now: at(105))
        #expect(f.runtimeRequestedNext(a, now: at(106)) == [.deliver(inv(2), to: a, cold: false, initDuration: nil)])
        #expect(f.runtimeRequestedNext(b, now: at(200)) == [])
        #expect(f.environmentViews.first { $0.id == b }?.phase == .idle)
    }

    @Test("shutdown fails every waiting and running invocation exactly once")
    func shutdown() throws {
        var f = fleet()
        let a = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.invoke(inv(2), function: "fn", now: at(0))
        _ = f.runtimeRequestedNext(a, now: at(100))
        let actions = f.shutdown()
        let failed = actions.compactMap { if case .fail(let id, .shuttingDown) = $0 { id } else { nil } }
        #expect(Set(failed) == [inv(1), inv(2)])
        #expect(failed.count == 2)
        #expect(f.environmentExited(a, exitCode: 137, outOfMemory: false, now: at(200)) == [])
        #expect(f.invoke(inv(3), function: "fn", now: at(201)) == [.fail(inv(3), .shuttingDown)])
    }

    @Test("Lambda's timeout message prints seconds with two decimals")
    func secondsFormat() {
        #expect(Duration.seconds(3).formattedSeconds == "3.00")
        #expect(Duration.milliseconds(1500).formattedSeconds == "1.50")
        #expect(Duration.milliseconds(10).formattedSeconds == "0.01")
    }
}

@Suite("Bridge gateway address")
struct BridgeAddressTests {
    @Test("the first host of a subnet", arguments: [
        ("172.17.0.0/16", "172.17.0.1"), ("10.1.2.0/24", "10.1.2.1"), ("192.168.5.77/24", "192.168.5.1"),
    ])
    func firstHost(cidr: String, expected: String) {
        #expect(BridgeAddress.firstHost(ofIPv4Subnet: cidr) == expected)
    }

    @Test("bad subnets give no address", arguments: ["", "172.17.0.0", "172.17.0.0/33", "300.1.1.1/8", "a.b.c.d/8", "fe80::/64"])
    func badSubnet(cidr: String) {
        #expect(BridgeAddress.firstHost(ofIPv4Subnet: cidr) == nil)
    }
}

@Suite("Function fleet limits while environments leave")
struct FleetLimitTests {
    @Test("an environment being reaped does not count against the reserved concurrency")
    func reapingFreesItsSlot() throws {
        var f = fleet(max: 1)
        let env = try #require(started(f.invoke(inv(1), function: "fn", now: at(0))).first)
        _ = f.runtimeRequestedNext(env, now: at(100))
        _ = f.runtimeFinished(inv(1), in: env, now: at(110))
        _ = f.runtimeRequestedNext(env, now: at(111))
        _ = f.tick(now: at(200))
        _ = f.frozen(env)
        #expect(f.tick(now: at(60_110)) == [.destroy(env, .idle)])
        // The container is still being removed; a new invocation gets a new environment, not a 429.
        #expect(started(f.invoke(inv(2), function: "fn", now: at(60_111))).count == 1)
    }
}
