import Foundation
import NIOCore
import TestSupport
import Testing
@testable import Gateway

/// Service routes through a live gateway to live replicas (NIO servers on
/// loopback): routing, balancing, limits, retries, errors, streaming.
@Suite("Service routes proxied to replicas")
struct ServiceProxyTests {
    static let routes = [GatewayRoute(path: "/app/{proxy+}", target: .service("web"))]

    /// A gateway whose `/app/...` routes go to service `web` on `replicas`.
    static func withService(
        _ replicas: [TestUpstream], groups: [String]? = nil, configure: (inout UpstreamSet) -> Void = { _ in },
        _ body: (UpstreamRegistry, Int) async throws -> Void
    ) async throws {
        let registry = UpstreamRegistry()
        var set = UpstreamSet(endpoints: replicas.enumerated().map { index, replica in
            UpstreamEndpoint(id: replica.name, host: "127.0.0.1", port: replica.port, group: groups?[index] ?? "r1")
        })
        configure(&set)
        registry.update("web", set)
        try await withLiveGateway(FakeInvoker(), routes: routes, upstreams: registry) { _, port in
            try await body(registry, port)
        }
        for replica in replicas { try await replica.stop() }
    }

    static func message(_ response: ProxyTestClient.Response) -> String? {
        json(response.text)?["message"] as? String
    }

    @Test("a request reaches a replica with forwarding fields; its answer comes back without hop-by-hop fields")
    func forwards() async throws {
        let replica = try await TestUpstream.start("a")
        try await Self.withService([replica]) { _, port in
            let response = try await onThread {
                try ProxyTestClient(port: port).get("/app/items?x=1", headers: ["X-Forwarded-For: 10.0.0.1", "Connection: keep-alive, X-Secret", "X-Secret: s"])
            }
            #expect(response.status == 200)
            #expect(response.text == "a GET /app/items?x=1")
            #expect(response.header("x-replica") == "a")
            #expect(response.header("keep-alive") == nil, "hop-by-hop fields of the replica stay behind")
            #expect(response.header("date") != nil)
            let seen = try #require(replica.snapshot.lastHead)
            #expect(seen.headers["Host"] == ["app.test"])
            #expect(seen.headers["X-Forwarded-Host"] == ["app.test"])
            #expect(seen.headers["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.1"])
            #expect(seen.headers["X-Forwarded-Proto"] == ["http"])
            #expect(seen.headers["X-Secret"].isEmpty, "a field the Connection header names is hop-by-hop")
        }
    }

    @Test("two equal replicas take turns: 200 sequential requests split within 10%")
    func balance() async throws {
        let a = try await TestUpstream.start("a")
        let b = try await TestUpstream.start("b")
        try await Self.withService([a, b]) { _, port in
            let replicas = try await onThread {
                let client = try ProxyTestClient(port: port)
                return try (0..<200).map { _ in try client.get("/app/x").header("x-replica") ?? "" }
            }
            let onA = replicas.filter { $0 == "a" }.count
            #expect((90...110).contains(onA), "a served \(onA) of 200")
            #expect(zip(replicas, replicas.dropFirst()).allSatisfy { $0 != $1 }, "sequential requests alternate")
        }
    }

    @Test("groups share the traffic by weight: 9:1 over 1000 requests")
    func weights() async throws {
        let stable = try await TestUpstream.start("stable")
        let canary = try await TestUpstream.start("canary")
        try await Self.withService([stable, canary], groups: ["rev1", "rev2"], configure: { $0.weights = ["rev1": 9, "rev2": 1] }) { _, port in
            let replicas = try await onThread {
                let client = try ProxyTestClient(port: port)
                return try (0..<1000).map { _ in try client.get("/app/x").header("x-replica") ?? "" }
            }
            let onCanary = replicas.filter { $0 == "canary" }.count
            #expect((80...120).contains(onCanary), "the canary served \(onCanary) of 1000")
        }
    }

    @Test("at the per-replica limit requests wait in the queue and are served in turn; past the queue they get 503")
    func limitAndQueue() async throws {
        // Slow enough that a loaded machine's late timers still see the first request in flight.
        let replica = try await TestUpstream.start("a", .slow(.seconds(4)))
        try await Self.withService([replica], configure: { $0.perReplicaLimit = 1; $0.queueLimit = 1 }) { registry, port in
            async let first = onThread { try ProxyTestClient(port: port, timeout: 30).get("/app/1") }
            try await eventually(timeout: .seconds(15)) { registry.inFlight(service: "web") == 1 }
            async let second = onThread { try ProxyTestClient(port: port, timeout: 30).get("/app/2") }
            try await eventually(timeout: .seconds(15)) { registry.waiting(service: "web") == 1 }
            let third = try await onThread { try ProxyTestClient(port: port).get("/app/3") }
            #expect(third.status == 503)
            #expect(Self.message(third) == "web: every replica is busy and too many requests are waiting")
            #expect(third.header("content-type") == "application/json")
            let (one, two) = try await (first, second)
            #expect(one.status == 200 && two.status == 200)
            #expect(two.text == "a GET /app/2")
            #expect(replica.snapshot.maxInFlight == 1, "the limit is hard")
        }
    }

    @Test("a request that waits past the queue timeout gets 503")
    func queueTimeout() async throws {
        let replica = try await TestUpstream.start("a", .slow(.seconds(6)))
        try await Self.withService([replica], configure: { $0.perReplicaLimit = 1; $0.queueTimeout = .milliseconds(150) }) { registry, port in
            async let first = onThread { try ProxyTestClient(port: port, timeout: 30).get("/app/1") }
            try await eventually(timeout: .seconds(15)) { registry.inFlight(service: "web") == 1 }
            let waited = try await onThread { try ProxyTestClient(port: port).get("/app/2") }
            #expect(waited.status == 503)
            #expect(registry.waiting(service: "web") == 0)
            #expect(Self.message(waited) == "web: no replica was free within 0.15 seconds")
            #expect(try await first.status == 200)
        }
    }

    @Test("a replica that died mid-request: abandoning it closes its connections and the GET is retried at once")
    func abandonedReplica() async throws {
        let hung = try await TestUpstream.start("hung", .slow(.seconds(30)))
        let live = try await TestUpstream.start("live")
        try await Self.withService([hung]) { registry, port in
            let clock = ContinuousClock()
            let started = clock.now
            async let answer = onThread { try ProxyTestClient(port: port, timeout: 30).get("/app/x") }
            try await eventually(timeout: .seconds(15)) { registry.inFlight(endpoint: "hung") == 1 }
            // As the service host does when a replica's container ends: out of the set, then abandoned.
            registry.update("web", UpstreamSet(endpoints: [
                UpstreamEndpoint(id: "live", host: "127.0.0.1", port: live.port, group: "r1"),
            ]))
            registry.abandon(endpoint: "hung")
            let response = try await answer
            #expect(response.status == 200)
            #expect(response.text == "live GET /app/x")
            #expect(clock.now - started < .seconds(15), "not held until the hung replica's 30 s")
        }
        try await live.stop()
    }

    @Test("a GET whose replica refuses the connection is retried on another replica")
    func retryOnRefusal() async throws {
        let live = try await TestUpstream.start("live")
        let registry = UpstreamRegistry()
        registry.update("web", UpstreamSet(endpoints: [
            UpstreamEndpoint(id: "dead", host: "127.0.0.1", port: try TestUpstream.closedPort(), group: "r1"),
            UpstreamEndpoint(id: "live", host: "127.0.0.1", port: live.port, group: "r1"),
        ]))
        try await withLiveGateway(FakeInvoker(), routes: Self.routes, upstreams: registry) { _, port in
            let statuses = try await onThread {
                let client = try ProxyTestClient(port: port)
                return try (0..<20).map { _ in try client.get("/app/x").status }
            }
            #expect(statuses == Array(repeating: 200, count: 20))
            // A POST is not retried: it fails where it went (every other one goes to the dead replica).
            let posts = try await onThread {
                let client = try ProxyTestClient(port: port)
                return try (0..<2).map { _ in
                    try client.send("POST /app/x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi")
                    return try client.response()
                }
            }
            #expect(posts.map(\.status).sorted() == [200, 502])
            let refused = try #require(posts.first { $0.status == 502 })
            #expect(Self.message(refused)?.hasPrefix("web: the replica could not be reached") == true, "\(refused.text)")
            #expect(registry.inFlight(endpoint: "dead") == 0 && registry.inFlight(service: "web") == 0)
        }
        try await live.stop()
    }

    @Test("no ready replica: 503; a replica that does not answer in time: 504; one that is gone: 502")
    func errors() async throws {
        let slow = try await TestUpstream.start("slow", .slow(.seconds(3)))
        let registry = UpstreamRegistry()
        registry.update("web", UpstreamSet(endpoints: []))
        try await withLiveGateway(FakeInvoker(), routes: Self.routes, upstreams: registry) { _, port in
            let none = try await onThread { try ProxyTestClient(port: port).get("/app/x") }
            #expect(none.status == 503 && Self.message(none) == "web: no ready replica")

            registry.update("web", UpstreamSet(endpoints: [UpstreamEndpoint(id: "s", host: "127.0.0.1", port: slow.port, group: "r1")],
                                               timeout: .milliseconds(200)))
            let late = try await onThread { try ProxyTestClient(port: port).get("/app/x") }
            #expect(late.status == 504 && Self.message(late) == "web: the replica did not answer within 0.2 seconds")

            registry.update("web", UpstreamSet(endpoints: [UpstreamEndpoint(id: "d", host: "127.0.0.1", port: try TestUpstream.closedPort(), group: "r1")]))
            let gone = try await onThread { try ProxyTestClient(port: port).get("/app/x") }
            #expect(gone.status == 502 && gone.header("content-type") == "application/json")

            registry.remove("web")
            let removed = try await onThread { try ProxyTestClient(port: port).get("/app/x") }
            #expect(removed.status == 503)
        }
        try await slow.stop()
    }

    @Test("sequential requests reuse one kept-alive connection to the replica")
    func keepAlive() async throws {
        let replica = try await TestUpstream.start("a")
        try await Self.withService([replica]) { _, port in
            try await onThread {
                let client = try ProxyTestClient(port: port)
                for _ in 0..<50 { _ = try client.get("/app/x") }
                // From a second client connection too (same or the other event loop's pool).
                let other = try ProxyTestClient(port: port)
                for _ in 0..<5 { _ = try other.get("/app/x") }
            }
            #expect(replica.snapshot.requests == 55)
            #expect(replica.snapshot.connections <= 2, "\(replica.snapshot.connections) connections for 55 requests")
        }
    }

    @Test("a replica that closes its kept-alive connections between requests fails no request")
    func replicaClosesKeptAlive() async throws {
        let replica = try await TestUpstream.start("a", .closeAfter(.milliseconds(5)))
        try await Self.withService([replica]) { _, port in
            let statuses = try await onThread {
                let client = try ProxyTestClient(port: port)
                var statuses: [Int] = []
                for index in 0..<40 {
                    statuses.append(try client.get("/app/x").status)
                    // Around the replica's close: before, during and after it.
                    usleep(useconds_t(index % 4 * 3000))
                }
                return statuses
            }
            #expect(statuses == Array(repeating: 200, count: 40))
            #expect(replica.snapshot.connections > 1)
        }
    }

    @Test("a chunked request body and an Expect: 100-continue body are streamed to the replica")
    func chunkedAndContinue() async throws {
        let replica = try await TestUpstream.start("a")
        try await Self.withService([replica]) { _, port in
            try await onThread {
                let client = try ProxyTestClient(port: port)
                try client.send("POST /app/up HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                let chunked = try client.response()
                #expect(chunked.text == "a POST /app/up hello world")

                try client.send("PUT /app/up HTTP/1.1\r\nHost: app.test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                let interim = try client.response()
                #expect(interim.status == 100)
                try client.send("body")
                #expect(try client.response().text == "a PUT /app/up body")
            }
            #expect(replica.snapshot.lastHead?.headers["Expect"].isEmpty == true)
        }
    }

    @Test("HEAD gets the head only and the connection goes on; Connection: close and HTTP/1.0 are answered, then closed")
    func headAndClose() async throws {
        let replica = try await TestUpstream.start("a")
        try await Self.withService([replica]) { _, port in
            try await onThread {
                let client = try ProxyTestClient(port: port)
                let head = try client.get("/app/x", method: "HEAD")
                #expect(head.status == 200 && head.header("content-length") == "13")
                #expect(try client.get("/app/y").text == "a GET /app/y", "no stray body after the HEAD answer")

                let closing = try ProxyTestClient(port: port)
                let answer = try closing.get("/app/z", headers: ["Connection: close"])
                #expect(answer.text == "a GET /app/z" && answer.header("connection") == "close")
                #expect(try closing.isClosed())

                let old = try ProxyTestClient(port: port)
                try old.send("GET /app/old HTTP/1.0\r\nHost: app.test\r\n\r\n")
                #expect(try old.response().text == "a GET /app/old")
                #expect(try old.isClosed())
            }
        }
    }

    @Test("server-sent events reach the client as they are sent")
    func events() async throws {
        let replica = try await TestUpstream.start("a", .events(4, pause: .milliseconds(400)))
        try await Self.withService([replica]) { _, port in
            let firstEvent = try await onThread { () -> ContinuousClock.Instant in
                let client = try ProxyTestClient(port: port)
                try client.send("GET /app/stream HTTP/1.1\r\nHost: app.test\r\nAccept: text/event-stream\r\n\r\n")
                try client.waitFor("data: 0")
                let at = ContinuousClock.now
                let whole = try client.response()
                #expect(whole.text == "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n")
                return at
            }
            let ended = try #require(replica.snapshot.lastEnd)
            #expect(ended - firstEvent > .milliseconds(500), "the first event came only \(ended - firstEvent) before the end")
        }
    }

    @Test("a 100 MB upload streams through with flat memory, every byte arriving")
    func largeUpload() async throws {
        let replica = try await TestUpstream.start("a", .count)
        let size = 100 * 1024 * 1024
        // A gateway process of its own: its memory is not the test run's.
        try await ChildGateway.with(upstreamPort: replica.port) { gateway, port in
            let before = MemoryUse.residentBytes(pid: gateway)
            let peak = MemoryUse.PeakSampler(pid: gateway)
            let answer = try await onThread {
                let client = try ProxyTestClient(port: port, timeout: 60)
                try client.send("POST /app/upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: \(size)\r\n\r\n")
                let block = [UInt8](repeating: 0x61, count: 1024 * 1024)
                for _ in 0..<100 { try client.send(block) }
                return try client.response()
            }
            let highest = peak.stop()
            #expect(answer.status == 200 && answer.text == "\(size)")
            #expect(replica.snapshot.bodyBytes == size)
            let growth = (highest - before) / (1024 * 1024)
            #expect(growth < 40, "resident memory grew by \(growth) MB during the upload")
        }
        try await replica.stop()
    }

    @Test("a 100 MB download to a slow client streams through with flat memory")
    func largeDownload() async throws {
        let size = 100 * 1024 * 1024
        let replica = try await TestUpstream.start("a", .download(size))
        try await ChildGateway.with(upstreamPort: replica.port) { gateway, port in
            let before = MemoryUse.residentBytes(pid: gateway)
            let peak = MemoryUse.PeakSampler(pid: gateway)
            let received = try await onThread {
                let client = try ProxyTestClient(port: port, timeout: 60)
                try client.send("GET /app/big HTTP/1.1\r\nHost: app.test\r\n\r\n")
                return try client.drain(size + 64, pausingEvery: 256 * 1024)
            }
            let highest = peak.stop()
            #expect(received >= size + 64, "\(received) bytes arrived")
            let growth = (highest - before) / (1024 * 1024)
            #expect(growth < 40, "resident memory grew by \(growth) MB during the download")
        }
        try await replica.stop()
    }

    @Test("inFlight counts requests on a replica; waitUntilIdle returns when they end, or at its timeout")
    func inFlightAndIdle() async throws {
        // The replica answers after 10 s: a wait of 50 ms ends at its timeout, well
        // before, even when a loaded machine runs timers late.
        let replica = try await TestUpstream.start("a", .slow(.seconds(10)))
        try await Self.withService([replica]) { registry, port in
            async let answer = onThread { try ProxyTestClient(port: port, timeout: 30).get("/app/x") }
            try await eventually(timeout: .seconds(15)) { registry.inFlight(endpoint: "a") == 1 }
            #expect(registry.inFlight(service: "web") == 1)
            let clock = ContinuousClock()
            let short = await clock.measure { await registry.waitUntilIdle(endpoint: "a", timeout: .milliseconds(50)) }
            #expect(short < .seconds(5), "the wait ended at its timeout")
            #expect(registry.inFlight(endpoint: "a") == 1)
            await registry.waitUntilIdle(endpoint: "a", timeout: .seconds(30))
            #expect(registry.inFlight(endpoint: "a") == 0 && registry.inFlight(service: "web") == 0)
            #expect(try await answer.status == 200)
            let idle = await clock.measure { await registry.waitUntilIdle(endpoint: "a", timeout: .seconds(10)) }
            #expect(idle < .milliseconds(100), "an idle endpoint is idle at once")
        }
    }
}

/// A process's resident memory, from /proc/PID/status.
enum MemoryUse {
    static func residentBytes(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ")[1])
        else { return 0 }
        return kilobytes * 1024
    }

    /// Samples the resident memory every 20 ms until stopped; gives the highest.
    final class PeakSampler: @unchecked Sendable {
        private let state = NSLock()
        private let pid: Int32
        private var peak: Int
        private var running = true

        init(pid: Int32) {
            self.pid = pid
            peak = MemoryUse.residentBytes(pid: pid)
            Thread.detachNewThread { [self] in
                while sample() { usleep(20_000) }
            }
        }

        private func sample() -> Bool {
            let now = MemoryUse.residentBytes(pid: pid)
            state.lock()
            defer { state.unlock() }
            peak = max(peak, now)
            return running
        }

        func stop() -> Int {
            state.lock()
            defer { state.unlock() }
            running = false
            return max(peak, MemoryUse.residentBytes(pid: pid))
        }
    }
}

/// `tandem-bench gateway-proxy` as a child process: a gateway whose every path
/// goes to one replica, with memory of its own to measure.
enum ChildGateway {
    /// Runs `body` with the gateway's pid and port; the gateway is stopped afterwards.
    static func with(upstreamPort: Int, _ body: (Int32, Int) async throws -> Void) async throws {
        let port = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtExecutable("tandem-bench"))
        process.arguments = ["gateway-proxy", "--upstream", "127.0.0.1:\(upstreamPort)", "--port", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await eventually(timeout: .seconds(20)) {
            (try? await onThread { try ProxyTestClient(port: port, timeout: 1).get("/") }) != nil
        }
        try await body(process.processIdentifier, port)
    }
}
