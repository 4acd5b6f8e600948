import Engine
import Foundation
import FunctionMode
import Logging
import Synchronization
import Testing
import TestSupport
@testable import ServiceMode

/// What a backend told: each service's ready replicas and the operator's notes.
final class BackendRecorder: Sendable {
    private let ready = Mutex<[String: [ReadyReplica]]>([:])
    private let noteList = Mutex<[ServiceNote]>([])

    func set(_ name: String, _ replicas: [ReadyReplica]) { ready.withLock { $0[name] = replicas } }
    func ready(_ name: String) -> [ReadyReplica] { ready.withLock { $0[name] ?? [] } }
    func note(_ note: ServiceNote) { noteList.withLock { $0.append(note) } }
    var notes: [ServiceNote] { noteList.withLock { $0 } }
}

/// No gateway in these tests: nothing is ever in flight.
struct NoTraffic: ReplicaTraffic {
    func waitUntilIdle(replica container: String, timeout: Duration) async {}
}

enum ServiceFixture {
    static let echoImage = "tandem/http-echo:latest"

    /// A running local backend for a project of its own; afterwards it is shut
    /// down and the test fails if any container of the project is left.
    static func withBackend(
        backoff: CrashBackoff = CrashBackoff(),
        _ body: (LocalBackend, BackendRecorder, EngineClient, String) async throws -> Void
    ) async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.folder("images/http-echo", tag: echoImage, engine: engine)
        try await TestImages.shared.busybox(engine: engine)
        let project = "test" + String(UUID().uuidString.prefix(8)).lowercased()
        let recorder = BackendRecorder()
        let backend = LocalBackend(
            engine: engine, project: project, admission: Admission(limit: 16), traffic: NoTraffic(), backoff: backoff,
            logger: Logger(label: "test.services"),
            onChange: { name, _, ready in recorder.set(name, ready) }, onNote: { recorder.note($0) })
        let run = Task { await backend.run() }
        var failure: (any Error)?
        do { try await body(backend, recorder, engine, project) } catch { failure = error }
        await backend.shutdown()
        await run.value
        let left = try await engine.listContainers(all: true, labels: ["tandem.project=\(project)"])
        for container in left { try? await engine.removeContainer(container.id, force: true) }
        #expect(left.isEmpty, "no container of the project is left after shutdown")
        if let failure { throw failure }
    }

    static func echo(_ name: String = "web", replicas: Int = 1, port: Int = 8080) -> ServiceSpec {
        ServiceSpec(name: name, revision: "r1", image: echoImage, replicas: replicas, port: port,
                    memoryBytes: 64 << 20, stopTimeout: .seconds(2))
    }

    static func get(_ address: String, port: Int, path: String = "/") async throws -> HTTPResponse {
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://\(address):\(port)"))
        return try await client.execute(HTTPRequest(method: "GET", path: path, timeout: .seconds(5)))
    }
}

@Suite("Service replicas against the engine", .serialized, .enabled(if: EngineAvailability.shouldRun))
struct LocalBackendTests {
    @Test("two replicas of a real http server turn ready and answer on $PORT; PID 1 is an init; no privilege gain; labelled")
    func replicasRun() async throws {
        try await ServiceFixture.withBackend { backend, recorder, engine, project in
            try await backend.start([ServiceFixture.echo(replicas: 2, port: 9000)])
            try await eventually(timeout: .seconds(15)) { recorder.ready("web").count == 2 }
            for replica in recorder.ready("web") {
                let response = try await ServiceFixture.get(replica.address, port: 9000, path: "/hello")
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self).contains("\"path\":\"/hello\""))
                let inspect = try await engine.inspectContainer(replica.container)
                #expect(inspect.hostConfig?.`init` == true)
                #expect(inspect.hostConfig?.securityOpt?.contains("no-new-privileges") == true)
                #expect(inspect.hostConfig?.memory == 64 << 20)
                let labels = inspect.config?.labels ?? [:]
                #expect(labels["tandem.project"] == project && labels["tandem.mode"] == "service")
                #expect(labels["tandem.workload"] == "web" && labels["tandem.revision"] == "r1")
                #expect(labels["tandem.slot"] == String(replica.id.slot))
            }
            #expect(Set(recorder.ready("web").map(\.id.slot)) == [0, 1])
            let view = try #require(backend.views().first)
            #expect(view.ready == 2 && view.desired == 2 && view.restarts == 0)
        }
    }

    @Test("a replica killed with SIGKILL leaves the ready set and a replacement is ready within 5 s")
    func killedReplicaReplaced() async throws {
        try await ServiceFixture.withBackend { backend, recorder, engine, _ in
            try await backend.start([ServiceFixture.echo(replicas: 2)])
            try await eventually(timeout: .seconds(15)) { recorder.ready("web").count == 2 }
            let victim = try #require(recorder.ready("web").first)
            let killedAt = ContinuousClock.now
            try await engine.killContainer(victim.container)
            try await eventually(timeout: .seconds(5)) {
                let ready = recorder.ready("web")
                return ready.count == 2 && !ready.contains { $0.container == victim.container }
            }
            #expect(ContinuousClock.now - killedAt < .seconds(5))
            let view = try #require(backend.views().first)
            #expect(view.restarts == 1)
            #expect(view.lastExit?.exitCode == 137)
            #expect((try? await engine.inspectContainer(victim.container)) == nil, "the dead container is removed")
        }
    }

    @Test("a replica that keeps exiting backs off, and the view shows its exit code and last lines")
    func crashLoop() async throws {
        let backoff = CrashBackoff(first: .seconds(2), cap: .seconds(8), resetAfter: .seconds(600))
        try await ServiceFixture.withBackend(backoff: backoff) { backend, _, _, _ in
            var spec = ServiceFixture.echo("crashy")
            spec.image = TestImages.busybox
            spec.command = ["sh", "-c", "echo starting; echo boom >&2; exit 3"]
            try await backend.start([spec])
            try await eventually(timeout: .seconds(10)) {
                (backend.views().first?.restarts ?? 0) >= 2 && backend.views().first?.crashLoopRetryIn != nil
            }
            let view = try #require(backend.views().first)
            #expect(view.ready == 0)
            #expect(view.lastExit?.exitCode == 3)
            #expect(view.lastExit?.reason == "exited with code 3")
            #expect(view.lastExit?.lastLines.contains("boom") == true)
            let retry = try #require(view.crashLoopRetryIn)
            #expect(retry <= .seconds(2))
            // The back-off holds: no third start within its wait.
            let restarts = view.restarts
            try await Task.sleep(for: .milliseconds(500))
            #expect(backend.views().first?.restarts == restarts)
        }
    }

    @Test("a replica whose health check starts failing leaves the rotation and is replaced")
    func unhealthyReplaced() async throws {
        try await ServiceFixture.withBackend { backend, recorder, engine, _ in
            var spec = ServiceFixture.echo("checked")
            spec.image = TestImages.busybox
            spec.command = ["sh", "-c", "echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
            spec.health = HealthPolicy(probe: .command(["sh", "-c", "test ! -f /tmp/sick"]), interval: .milliseconds(300),
                                       timeout: .seconds(3), retries: 2)
            try await backend.start([spec])
            try await eventually(timeout: .seconds(15)) { recorder.ready("checked").count == 1 }
            let first = try #require(recorder.ready("checked").first)
            let response = try await ServiceFixture.get(first.address, port: 8080, path: "/index.html")
            #expect(String(decoding: response.body, as: UTF8.self) == "ok\n", "busybox httpd serves")
            _ = try await engine.exec(first.container, ExecSpec(cmd: ["touch", "/tmp/sick"]))
            try await eventually(timeout: .seconds(10)) {
                let ready = recorder.ready("checked")
                return ready.count == 1 && ready[0].container != first.container
            }
            #expect(recorder.notes.contains {
                if case .unhealthy(let id, let reason) = $0 { id == first.id && reason.contains("exited 1") } else { false }
            })
            #expect(backend.views().first?.lastExit?.reason.contains("health check failed 2 times") == true)
        }
    }

    @Test("a replica an earlier controller left is adopted without a restart; one of a workload no longer deployed is removed")
    func adoption() async throws {
        try await ServiceFixture.withBackend { backend, recorder, engine, project in
            let spec = ServiceFixture.echo()
            // As an earlier controller would have left them.
            let kept = ReplicaID(service: "web", slot: 0, serial: 3)
            let leftover = try await engine.createContainer(
                ReplicaContainer.spec(spec, replica: kept, project: project, network: "bridge"))
            try await engine.startContainer(leftover.id)
            let startedAt = try await engine.inspectContainer(leftover.id).state.startedAt
            let gone = ReplicaID(service: "old", slot: 0, serial: 0)
            let orphan = try await engine.createContainer(
                ReplicaContainer.spec(ServiceFixture.echo("old"), replica: gone, project: project, network: "bridge"))
            try await engine.startContainer(orphan.id)

            try await backend.start([spec])
            try await eventually(timeout: .seconds(10)) { recorder.ready("web").count == 1 }
            #expect(recorder.ready("web").first?.container == leftover.id)
            #expect(try await engine.inspectContainer(leftover.id).state.startedAt == startedAt, "not restarted")
            #expect(recorder.notes.contains { if case .ready(kept, true, _) = $0 { true } else { false } })
            try await eventually(timeout: .seconds(15)) { (try? await engine.inspectContainer(orphan.id)) == nil }
            let web = try await engine.listContainers(all: true, labels: ["tandem.project=\(project)", "tandem.workload=web"])
            #expect(web.map(\.id) == [leftover.id], "no second replica")
        }
    }

    @Test("a shutdown while replicas are starting leaves no container")
    func shutdownDuringStart() async throws {
        try await ServiceFixture.withBackend { backend, _, _, _ in
            try await backend.start([ServiceFixture.echo(replicas: 3)])
            try await Task.sleep(for: .milliseconds(30))
            // withBackend shuts down now and checks that nothing is left.
        }
    }
}
