import Testing
@testable import FunctionMode

private let t0 = ContinuousClock.Instant.now

private func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

private func inv(_ n: Int) -> InvocationID { InvocationID("req-\(n)") }

private func fleet(max: Int = 2, provisioned: Int = 0) -> FleetState {
    var fleet = FleetState(globalLimit: 10)
    _ = fleet.configure("fn", PoolSettings(maxEnvironments: max, provisioned: provisioned,
                                           freezeGrace: .milliseconds(50), reapAfter: .seconds(60),
                                           timeout: .seconds(3), initTimeout: .seconds(10)), now: at(0))
    return fleet
}

/// A warm environment whose runtime answered `req-1` and has not asked again.
private func warmButNotAsking(_ f: inout FleetState) throws -> EnvironmentID {
    let actions = f.invoke(inv(1), function: "fn", now: at(0))
    let env = try #require(actions.compactMap { if case .startEnvironment(_, let id, _) = $0 { id } else { nil } }.first)
    _ = f.runtimeRequestedNext(env, now: at(100))
    #expect(f.runtimeFinished(inv(1), in: env, now: at(110)) == .accepted)
    return env
}

/// What a runtime that loses its `/next` (or never asks again) must not do:
/// hold an invocation and a concurrency slot for ever.
@Suite("Function fleet: invocations whose runtime never takes them")
struct FleetStateHardeningTests {
    @Test("an invocation given to an environment whose runtime never asks again times out, and the environment goes")
    func undeliveredTimesOut() throws {
        var f = fleet()
        let env = try warmButNotAsking(&f)
        #expect(f.invoke(inv(2), function: "fn", now: at(120)) == [])
        // Its deadline is the function's timeout from when it was given out.
        #expect(f.nextDeadline() == at(3120))
        #expect(f.tick(now: at(3119)).isEmpty)
        #expect(f.tick(now: at(3120)) == [.fail(inv(2), .timedOut(after: .seconds(3))), .destroy(env, .timedOut)])
        // A late /response for it is refused; the environment's exit frees its slot.
        #expect(f.runtimeFinished(inv(2), in: env, now: at(3200)) == .unknownRequest)
        _ = f.environmentExited(env, exitCode: 137, outOfMemory: false, now: at(3300))
        #expect(f.environmentCount == 0)
    }

    @Test("a delivery whose connection closed fails the invocation as a runtime exit and replaces the environment")
    func deliveryFailed() throws {
        var f = fleet()
        let env = try warmButNotAsking(&f)
        _ = f.invoke(inv(2), function: "fn", now: at(120))
        #expect(f.runtimeRequestedNext(env, now: at(121)) == [.deliver(inv(2), to: env, cold: false, initDuration: nil)])
        #expect(f.deliveryFailed(inv(2), in: env, now: at(122)) == [.fail(inv(2), .runtimeVanished), .destroy(env, .replaced)])
        // Nothing is left to time out, and a second report changes nothing.
        #expect(f.deliveryFailed(inv(2), in: env, now: at(123)).isEmpty)
        #expect(f.tick(now: at(10_000)).allSatisfy { if case .fail = $0 { false } else { true } })
    }

    @Test("a provisioned environment replaced after a lost delivery is started again")
    func provisionedReplaced() throws {
        var f = FleetState(globalLimit: 10)
        let first = f.configure("fn", PoolSettings(maxEnvironments: 2, provisioned: 1, timeout: .seconds(3)), now: at(0))
        guard case .startEnvironment(_, let env, .provisioned) = try #require(first.first) else {
            Issue.record("expected a provisioned start, got \(first)")
            return
        }
        _ = f.runtimeRequestedNext(env, now: at(50))
        _ = f.invoke(inv(1), function: "fn", now: at(60))
        _ = f.deliveryFailed(inv(1), in: env, now: at(61))
        let after = f.environmentExited(env, exitCode: 137, outOfMemory: false, now: at(70))
        #expect(after.contains { if case .startEnvironment(_, _, .provisioned) = $0 { true } else { false } })
    }

    @Test("a drain refuses new invocations while accepted ones finish")
    func drain() throws {
        var f = fleet()
        let env = try warmButNotAsking(&f)
        _ = f.invoke(inv(2), function: "fn", now: at(120))
        f.drain()
        #expect(f.invoke(inv(3), function: "fn", now: at(121)) == [.fail(inv(3), .shuttingDown)])
        #expect(!f.isIdle)
        #expect(f.runtimeRequestedNext(env, now: at(122)) == [.deliver(inv(2), to: env, cold: false, initDuration: nil)])
        #expect(f.runtimeFinished(inv(2), in: env, now: at(130)) == .accepted)
        #expect(f.isIdle)
    }
}
