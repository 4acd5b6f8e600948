import Testing
@testable import Gateway

/// The balancer's decisions, without sockets.
@Suite("Upstream balancer")
struct UpstreamBalancerTests {
    static func endpoint(_ id: String, _ group: String = "r1") -> UpstreamEndpoint {
        UpstreamEndpoint(id: id, host: "10.0.0.1", port: 8080, group: group)
    }

    @Test("idle equal replicas take turns")
    func alternates() throws {
        var balancer = UpstreamBalancer()
        let set = UpstreamSet(endpoints: [Self.endpoint("a"), Self.endpoint("b"), Self.endpoint("c")])
        let picks = try (0..<6).map { _ in try balancer.pick(from: set, outstanding: { _ in 0 }).get().id }
        #expect(picks == ["a", "b", "c", "a", "b", "c"])
    }

    @Test("the replica with the fewest requests outstanding wins")
    func leastOutstanding() throws {
        var balancer = UpstreamBalancer()
        let set = UpstreamSet(endpoints: [Self.endpoint("a"), Self.endpoint("b")])
        let counts = ["a": 3, "b": 1]
        for _ in 0..<4 { #expect(try balancer.pick(from: set, outstanding: { counts[$0]! }).get().id == "b") }
    }

    @Test("groups are picked by weight, smoothly", arguments: [(9.0, 1.0, 900), (1.0, 1.0, 500), (1.0, 0.0, 1000)])
    func weights(stable: Double, canary: Double, expected: Int) throws {
        var balancer = UpstreamBalancer()
        let set = UpstreamSet(endpoints: [Self.endpoint("s", "v1"), Self.endpoint("c", "v2")], weights: ["v1": stable, "v2": canary])
        let picks = try (0..<1000).map { _ in try balancer.pick(from: set, outstanding: { _ in 0 }).get().id }
        #expect(picks.filter { $0 == "s" }.count == expected)
        if canary > 0 {
            // No bursts: the canary's requests are spread out, never two in a row at 9:1.
            #expect(!zip(picks, picks.dropFirst()).contains { $0 == "c" && $1 == "c" })
        }
    }

    @Test("replicas at their limit sit out; all busy means wait, none weighted means no replica")
    func limits() throws {
        var balancer = UpstreamBalancer()
        var set = UpstreamSet(endpoints: [Self.endpoint("a"), Self.endpoint("b")], perReplicaLimit: 2)
        #expect(try balancer.pick(from: set, outstanding: { $0 == "a" ? 2 : 1 }).get().id == "b")
        #expect(balancer.pick(from: set, outstanding: { _ in 2 }) == .failure(.allBusy))
        #expect(try balancer.pick(from: set, outstanding: { _ in 0 }, excluding: ["a"]).get().id == "b")
        #expect(balancer.pick(from: set, outstanding: { _ in 0 }, excluding: ["a", "b"]) == .failure(.noReplica))
        set.weights = ["r1": 0]
        #expect(balancer.pick(from: set, outstanding: { _ in 0 }) == .failure(.noReplica))
        #expect(balancer.pick(from: UpstreamSet(endpoints: []), outstanding: { _ in 0 }) == .failure(.noReplica))
    }
}
