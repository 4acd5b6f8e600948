import Engine
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Controller

/// Service mode as an operator meets it: the real `tandem up`, an http
/// server run as supervised replicas behind the gateway.
@Suite("Service mode through tandem up", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct ServiceModeProcessTests {
    static let manifest = """
        version: 1
        workloads:
          web:
            build: \(Repository.root.path)/images/http-echo
            contract: http
            mode: service
            memory: 64Mi
            replicas: {min: 2}
            stop_timeout: 5s
            triggers:
              - http: {path: "/{proxy+}"}
        """

    /// `tandem up` in a folder of its own with the gateway on a free port.
    static func up(_ folder: URL) throws -> (TandemUp, CurlHTTPClient) {
        let port = try freeLoopbackPort()
        let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(port)", "--stop-timeout", "8s"])
        return (up, try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(port)")))
    }

    static func service(_ client: ControlClient) async -> ProcessList.Service? {
        try? await client.processList().workloads.first { $0.name == "web" }?.service
    }

    static func project(_ folder: URL) -> String { Controller.projectLabel(folder.standardizedFileURL.path) }

    static func replicas(_ engine: EngineClient, _ folder: URL) async throws -> [ContainerSummary] {
        try await engine.listContainers(all: true, labels: ["tandem.project=\(project(folder))", "tandem.mode=service"])
    }

    @Test("requests are balanced over the replicas; a replica SIGKILLed under load fails no GET and is replaced; down removes every replica")
    func balancedAndSupervised() async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TandemUp.withFolder(Self.manifest) { folder in
            let (up, gateway) = try Self.up(folder)
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            try await eventually(timeout: .seconds(30)) { await Self.service(client)?.ready == 2 }

            // Balance: 200 sequential requests, each with its own path, counted in each replica's log.
            for n in 0..<200 {
                let response = try await gateway.execute(HTTPRequest(method: "GET", path: "/balance-\(n)", timeout: .seconds(5)))
                #expect(response.status == 200)
            }
            var served: [Int] = []
            for replica in try await Self.replicas(engine, folder) {
                let log = try await engine.containerOutput(replica.id).stdoutText
                served.append(log.components(separatedBy: "GET /balance-").count - 1)
            }
            #expect(served.count == 2 && served.reduce(0, +) == 200, "\(served)")
            #expect(served.allSatisfy { abs($0 - 100) <= 10 }, "balanced within 10%: \(served)")

            // SIGKILL one replica while four clients send GETs.
            let load = GatewayLoad(gateway: gateway, workers: 4, path: "/load")
            try await Task.sleep(for: .milliseconds(500))
            let victim = try #require(try await Self.replicas(engine, folder).first)
            try await engine.killContainer(victim.id)
            let killed = ContinuousClock.now
            try await eventually(timeout: .seconds(5)) {
                guard let service = await Self.service(client) else { return false }
                return service.ready == 2 && service.restarts == 1
            }
            #expect(ContinuousClock.now - killed < .seconds(5))
            try await Task.sleep(for: .milliseconds(500))
            let (sent, failures) = await load.stop()
            #expect(sent > 50)
            #expect(failures.isEmpty, "failed GETs: \(failures.prefix(5))")
            #expect(up.output.contains("killed (exit code 137)"), "\(up.output)")

            try await client.down()
            #expect(await up.waitForExit(upTo: .seconds(20)) == 0, "\(up.output)")
            #expect(try await Self.replicas(engine, folder).isEmpty, "down removes every replica")
        }
    }

    @Test("a controller killed with SIGKILL leaves its replicas running; the next `tandem up` adopts them without a restart")
    func adoptedAcrossRestart() async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TandemUp.withFolder(Self.manifest) { folder in
            let (first, _) = try Self.up(folder)
            defer { first.kill() }
            let firstClient = try await first.waitUntilAnswering()
            try await eventually(timeout: .seconds(30)) { await Self.service(firstClient)?.ready == 2 }
            let before = try await Self.replicas(engine, folder)
            var startedAt: [String: String] = [:]
            for replica in before { startedAt[replica.id] = try await engine.inspectContainer(replica.id).state.startedAt }
            first.signal(SIGKILL)
            _ = await first.waitForExit(upTo: .seconds(10))
            #expect(try await Self.replicas(engine, folder).filter { $0.state == "running" }.count == 2)

            let (second, gateway) = try Self.up(folder)
            defer { second.kill() }
            let client = try await second.waitUntilAnswering()
            try await eventually(timeout: .seconds(30)) { await Self.service(client)?.ready == 2 }
            let after = try await Self.replicas(engine, folder)
            #expect(Set(after.map(\.id)) == Set(before.map(\.id)), "the same containers, none duplicated")
            for replica in after {
                #expect(try await engine.inspectContainer(replica.id).state.startedAt == startedAt[replica.id], "not restarted")
            }
            #expect(second.output.contains("adopted from an earlier run"), "\(second.output)")
            let response = try await gateway.execute(HTTPRequest(method: "GET", path: "/after", timeout: .seconds(5)))
            #expect(response.status == 200)
            try await client.down()
            #expect(await second.waitForExit(upTo: .seconds(20)) == 0, "\(second.output)")
            #expect(try await Self.replicas(engine, folder).isEmpty)
        }
    }

    @Test("a request in flight when the controller stops completes before its replica is stopped")
    func gracefulStop() async throws {
        try await TandemUp.withFolder(Self.manifest) { folder in
            let (up, gateway) = try Self.up(folder)
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            try await eventually(timeout: .seconds(30)) { await Self.service(client)?.ready == 2 }
            let slow = Task {
                try await gateway.execute(HTTPRequest(method: "GET", path: "/sleep/2000", timeout: .seconds(10)))
            }
            try await Task.sleep(for: .milliseconds(400))
            try await client.down()
            let response = try await slow.value
            #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(await up.waitForExit(upTo: .seconds(20)) == 0, "\(up.output)")
        }
    }
}

extension ServiceModeProcessTests {
    static let statefulManifest = """
        version: 1
        workloads:
          store:
            image: \(TestImages.busybox)
            contract: http
            mode: service
            memory: 64Mi
            state: stateful
            volume: /data
            command: ["sh", "-c", "echo started; cat /data/note 2>/dev/null; echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
          broken:
            build: \(Repository.root.path)/images/http-echo
            contract: http
            mode: service
            memory: 64Mi
            health: {http: /status/404, interval: 1s}
        """

    @Test("a stateful replica's volume outlives the replica; logs carry the replica's name; a 404 health path is shown; down --volumes removes the volume")
    func statefulVolumeLogsAndBadHealth() async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.busybox(engine: engine)
        try await TandemUp.withFolder(Self.statefulManifest) { folder in
            let (up, _) = try Self.up(folder)
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            func service(_ name: String) async -> ProcessList.Service? {
                try? await client.processList().workloads.first { $0.name == name }?.service
            }
            try await eventually(timeout: .seconds(30)) { await service("store")?.ready == 1 }
            let project = Self.project(folder)
            let first = try #require(try await engine.listContainers(labels: ["tandem.project=\(project)", "tandem.workload=store"]).first)
            let wrote = try await engine.exec(first.id, ExecSpec(cmd: ["sh", "-c", "echo remembered > /data/note"]))
            #expect(wrote.exitCode == 0)
            try await engine.killContainer(first.id)
            try await eventually(timeout: .seconds(10)) {
                guard let store = await service("store") else { return false }
                return store.ready == 1 && store.restarts == 1
            }
            let volumes = try await engine.listVolumes(labels: ["tandem.project=\(project)"])
            #expect(volumes.map(\.name) == ["tandem-\(project)-store-0"])
            try await eventually(timeout: .seconds(5)) {
                let log = (try? String(contentsOf: folder.appendingPathComponent(".tandem/logs/store.log"), encoding: .utf8)) ?? ""
                return log.contains("store-0.1 | remembered") && log.contains("store-0.0 | started")
            }

            let broken = try #require(await service("broken"))
            #expect(broken.ready == 0)
            try await eventually(timeout: .seconds(10)) {
                await service("broken")?.replicas.first?.problem?.contains("GET /status/404 answered 404") == true
            }

            try await client.down(removingVolumes: true)
            #expect(await up.waitForExit(upTo: .seconds(30)) == 0, "\(up.output)")
            #expect(try await engine.listVolumes(labels: ["tandem.project=\(project)"]).isEmpty, "down --volumes removes it")
            #expect(try await Self.replicas(engine, folder).isEmpty)
        }
    }
}

/// Clients sending GETs through the gateway until stopped, counting failures.
final class GatewayLoad: Sendable {
    private let state = Mutex<(sent: Int, failures: [String], stopped: Bool)>((0, [], false))
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(gateway: CurlHTTPClient, workers: Int, path: String) {
        let running = Task { await self.send(gateway: gateway, workers: workers, path: path) }
        task.withLock { $0 = running }
    }

    private func send(gateway: CurlHTTPClient, workers: Int, path: String) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var n = 0
                    while !self.state.withLock({ $0.stopped }) {
                        n += 1
                        var failure: String?
                        do {
                            let response = try await gateway.execute(
                                HTTPRequest(method: "GET", path: "\(path)-\(worker)-\(n)", timeout: .seconds(10)))
                            if response.status != 200 { failure = "status \(response.status)" }
                        } catch {
                            failure = "\(error)"
                        }
                        self.state.withLock { state in
                            state.sent += 1
                            if let failure { state.failures.append(failure) }
                        }
                    }
                }
            }
        }
    }

    /// Stops the clients; returns what was sent and what failed.
    func stop() async -> (sent: Int, failures: [String]) {
        state.withLock { $0.stopped = true }
        await task.withLock { $0 }?.value
        return state.withLock { ($0.sent, $0.failures) }
    }
}
