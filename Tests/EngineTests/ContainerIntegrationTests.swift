import Engine
import Foundation
import Testing
import TestSupport

@Suite("Containers against the engine", .enabled(if: EngineAvailability.shouldRun))
struct ContainerIntegrationTests {
    @Test("create, start, wait, logs split by stream, inspect, list by label, remove")
    func lifecycle() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let unique = UUID().uuidString
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", "echo out; echo err >&2; exit 3"]) {
                $0.labels?["tandem.case"] = unique
            })
            #expect(try await client.startContainer(id))
            let wait = try await client.waitContainer(id)
            #expect(wait.statusCode == 3)
            let output = try await client.containerOutput(id)
            #expect(output.stdoutText == "out\n")
            #expect(output.stderrText == "err\n")
            let inspect = try await client.inspectContainer(id)
            #expect(inspect.state.status == "exited")
            #expect(inspect.state.exitCode == 3)
            #expect(inspect.state.running == false)
            #expect(inspect.state.finishedAt?.hasPrefix("0001") == false)
            #expect(inspect.config?.labels?["tandem.case"] == unique)
            let listed = try await client.listContainers(labels: ["tandem.case=\(unique)"])
            #expect(listed.map(\.id) == [id])
            try await client.removeContainer(id)
            await #expect {
                _ = try await client.inspectContainer(id)
            } throws: { ($0 as? EngineError)?.code == .notFound }
        }
    }

    @Test("limits and options are applied as sent and the container runs under them")
    func limitsApplied() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let name = "tandem-test-\(UUID().uuidString.prefix(8).lowercased())"
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", "id -u; pwd; echo $GREETING; touch /x 2>/dev/null || echo ro; echo hi > /tmp/f && cat /tmp/f; echo s > /scratch/f && cat /scratch/f; sleep 30"]) {
                $0.env = ["GREETING=hello"]
                $0.user = "1000:1000"
                // (A WorkingDir on a tmpfs mount point makes Docker 20.10 drop the tmpfs mode.)
                $0.workingDir = "/bin"
                $0.stopTimeout = 1
                $0.hostConfig?.memory = 64 << 20
                $0.hostConfig?.memorySwap = 64 << 20
                $0.hostConfig?.nanoCpus = 500_000_000
                $0.hostConfig?.pidsLimit = 32
                $0.hostConfig?.readonlyRootfs = true
                $0.hostConfig?.tmpfs = ["/tmp": "rw,size=8m,mode=1777"]
                $0.hostConfig?.capDrop = ["ALL"]
                $0.hostConfig?.securityOpt = ["no-new-privileges"]
                $0.hostConfig?.`init` = true
                $0.hostConfig?.ulimits = [Ulimit(name: "nofile", soft: 20000, hard: 20000)]
                $0.hostConfig?.mounts = [.tmpfs(target: "/scratch", sizeBytes: 4 << 20, mode: 0o1777)]
            }, name: name)
            try await client.startContainer(id)
            #expect(try await client.startContainer(id) == false, "a second start is 304, reported as not started")
            let inspect = try await client.inspectContainer(name)
            #expect(inspect.name == "/\(name)")
            #expect(inspect.state.running)
            #expect(inspect.state.pid > 0)
            let host = try #require(inspect.hostConfig)
            #expect(host.memory == 64 << 20)
            #expect(host.nanoCpus == 500_000_000)
            #expect(host.pidsLimit == 32)
            #expect(host.readonlyRootfs == true)
            #expect(host.capDrop == ["ALL"])
            #expect(host.`init` == true)
            #expect(host.tmpfs?["/tmp"] == "rw,size=8m,mode=1777")
            #expect(host.networkMode == "none")
            // Wait for the output lines.
            var text = ""
            for _ in 0..<100 {
                text = try await client.containerOutput(id).stdoutText
                if text.contains("s\n") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(text == "1000\n/bin\nhello\nro\nhi\ns\n")
            let stats = try await client.containerStats(id)
            #expect((stats.memoryStats?.usage ?? 0) > 0)
            #expect((stats.cpuStats?.cpuUsage?.totalUsage ?? 0) > 0)
            #expect(stats.memoryStats?.limit == 64 << 20)
            try await client.pauseContainer(id)
            #expect(try await client.inspectContainer(id).state.paused)
            try await Task.sleep(for: .milliseconds(5))
            try await client.unpauseContainer(id)
            #expect(try await client.inspectContainer(id).state.paused == false)
            try await client.killContainer(id)
            let exit = try await client.waitContainer(id)
            #expect(exit.statusCode == 137)
            await #expect {
                try await client.killContainer(id)
            } throws: { ($0 as? EngineError)?.code == .conflict }
            #expect(try await client.stopContainer(id) == false, "stopping a stopped container is 304")
        }
    }

    @Test("a container over its memory limit is OOM-killed and inspect says so")
    func oomKilled() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            // The shell outlives dd by a second: the engine learns of an OOM
            // kill from an event that can be missed when the cgroup's only
            // process dies and the container is gone at once.
            let script = "dd if=/dev/zero of=/dev/null bs=64M count=1; status=$?; sleep 1; exit $status"
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", script]) {
                $0.hostConfig?.memory = 32 << 20
                $0.hostConfig?.memorySwap = 32 << 20
            })
            try await client.startContainer(id)
            let exit = try await client.waitContainer(id)
            #expect(exit.statusCode == 137)
            let state = try await client.inspectExited(id, patience: .seconds(5)).state
            #expect(state.oomKilled)
            #expect(state.exitCode == 137)
        }
    }

    @Test("the pids limit holds: forking 20 sleeps under PidsLimit 8 fails")
    func pidsLimit() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let script = "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 2 & done; echo all-started"
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", script]) {
                $0.hostConfig?.pidsLimit = 8
            })
            try await client.startContainer(id)
            let exit = try await client.waitContainer(id)
            let output = try await client.containerOutput(id)
            #expect(exit.statusCode != 0)
            #expect(!output.stdoutText.contains("all-started"))
            #expect(output.stderrText.contains("can't fork"), "stderr: \(output.stderrText)")
        }
    }

    @Test("logs follow a container that prints over time, live")
    func logsFollow() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            // It prints, then waits to be killed: output that arrives while it
            // still runs was streamed live, however loaded the machine is.
            let id = try await tracker.create(EngineTestSupport.spec(
                ["sh", "-c", "for i in 1 2 3; do echo line$i; echo e$i >&2; done; sleep 60"]))
            try await client.startContainer(id)
            var output = ContainerOutput()
            var runningWhenSeen: Bool?
            for try await chunk in try await client.containerLogs(id, options: LogsOptions(follow: true)) {
                if chunk.stream == .stdout { output.stdout += chunk.bytes } else { output.stderr += chunk.bytes }
                if runningWhenSeen == nil, output.stdoutText.contains("line3"), output.stderrText.contains("e3") {
                    runningWhenSeen = try await client.inspectContainer(id).state.running
                    try await client.killContainer(id)
                }
            }
            #expect(output.stdoutText == "line1\nline2\nline3\n")
            #expect(output.stderrText == "e1\ne2\ne3\n")
            #expect(runningWhenSeen == true, "the output arrived only after the container ended")
        }
    }

    @Test("stopping iteration of a followed log stream ends the transfer promptly")
    func logsCancel() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", "while true; do echo tick; sleep 0.05; done"]))
            try await client.startContainer(id)
            let before = client.http.transfersCompleted
            var seen = 0
            for try await _ in try await client.containerLogs(id, options: LogsOptions(follow: true, tty: false)) {
                seen += 1
                if seen == 3 { break }
            }
            #expect(seen == 3)
            // The loop removes the transfer from the multi handle.
            var done = false
            for _ in 0..<100 {
                if client.http.transfersCompleted > before { done = true; break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(done)
            // Cancelling a task stuck on a long wait aborts it too.
            let waiter = Task { try await client.waitContainer(id) }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            await #expect { _ = try await waiter.value } throws: { ($0 as? EngineError)?.code == .cancelled }
        }
    }

    @Test("TTY containers' logs come raw")
    func ttyLogs() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", "echo tty-out"]) { $0.tty = true })
            try await client.startContainer(id)
            _ = try await client.waitContainer(id)
            let output = try await client.containerOutput(id)
            #expect(output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "tty-out")
        }
    }

    @Test("bad input gives typed errors with the engine's message")
    func badInput() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            await #expect {
                _ = try await tracker.create(ContainerSpec(image: "tandem-test/does-not-exist:nope", labels: EngineTestSupport.labels()))
            } throws: { error in
                let e = error as? EngineError
                return e?.code == .notFound && e?.status == 404 && e?.operation == "POST /containers/create"
                    && (e?.message.contains("does-not-exist") ?? false)
            }
            await #expect {
                _ = try await tracker.create(EngineTestSupport.spec(["true"]) { $0.hostConfig?.memory = 1 })
            } throws: { error in
                let e = error as? EngineError
                return e?.code == .badRequest && e?.status == 400 && (e?.message.contains("Minimum memory limit") ?? false)
            }
            await #expect {
                _ = try await tracker.create(EngineTestSupport.spec(["true"]) { $0.hostConfig?.nanoCpus = 1_000_000_000_000 })
            } throws: { error in
                let e = error as? EngineError
                return e?.code == .badRequest && (e?.message.contains("CPU") ?? false)
            }
            let name = "tandem-test-\(UUID().uuidString.prefix(8).lowercased())"
            _ = try await tracker.create(EngineTestSupport.spec(["true"]), name: name)
            await #expect {
                _ = try await tracker.create(EngineTestSupport.spec(["true"]), name: name)
            } throws: { ($0 as? EngineError)?.code == .conflict }
            await #expect {
                try await client.startContainer("no-such-container-\(UUID().uuidString)")
            } throws: { ($0 as? EngineError)?.code == .notFound }
        }
    }

    @Test("exec runs a command in a running container and reports output and exit code")
    func exec() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(EngineTestSupport.spec(["sleep", "30"]) { $0.stopTimeout = 1 })
            try await client.startContainer(id)
            let result = try await client.exec(id, ExecSpec(cmd: ["sh", "-c", "echo hello; echo oops >&2; exit 4"]))
            #expect(result.exitCode == 4)
            #expect(result.output.stdoutText == "hello\n")
            #expect(result.output.stderrText == "oops\n")
            let detached = try await client.createExec(id, ExecSpec(cmd: ["sleep", "0.2"]))
            try await client.startExecDetached(detached)
            let running = try await client.inspectExec(detached)
            #expect(running.id == detached)
            #expect(running.containerID == id)
            var finished: ExecInspect?
            for _ in 0..<100 {
                let inspect = try await client.inspectExec(detached)
                if !inspect.running { finished = inspect; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(finished?.exitCode == 0)
        }
    }

    @Test("events filtered by a unique label show create, start and die")
    func events() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let unique = UUID().uuidString
            let since = Int64(Date().timeIntervalSince1970) - 1
            let stream = try await client.events(since: since, filters: EventFilters(labels: ["tandem.case=\(unique)"], types: ["container"]))
            let id = try await tracker.create(EngineTestSupport.spec(["true"]) { $0.labels?["tandem.case"] = unique })
            try await client.startContainer(id)
            _ = try await client.waitContainer(id)
            var actions: [String] = []
            let collector = Task {
                var seen: [EngineEvent] = []
                for try await event in stream {
                    seen.append(event)
                    if event.action == "die" { break }
                }
                return seen
            }
            let timeout = Task {
                try await Task.sleep(for: .seconds(5))
                collector.cancel()
            }
            let seen = try await collector.value
            timeout.cancel()
            actions = seen.map(\.action)
            #expect(actions.prefix(3) == ["create", "start", "die"])
            #expect(seen.allSatisfy { $0.actor.id == id && $0.type == "container" })
            #expect(seen.first?.actor.attributes["tandem.case"] == unique)
            #expect(seen.last?.actor.attributes["exitCode"] == "0")
            #expect((seen.first?.time ?? 0) >= since)
        }
    }

    @Test("50 pings and 10 container waits in flight at once")
    func concurrency() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            var ids: [String] = []
            for _ in 0..<10 { ids.append(try await tracker.create(EngineTestSupport.spec(["sleep", "1"]))) }
            for id in ids { try await client.startContainer(id) }
            let clock = ContinuousClock()
            let start = clock.now
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for id in ids { group.addTask { try await client.waitContainer(id).statusCode } }
                for _ in 0..<50 { group.addTask { try await client.ping() == "OK" ? 0 : 1 } }
                var all: [Int] = []
                for try await code in group { all.append(code) }
                return all
            }
            #expect(codes.count == 60)
            #expect(codes.allSatisfy { $0 == 0 })
            #expect(clock.now - start < .seconds(3), "the waits ran concurrently")
        }
    }
}

@Suite("Engine basics against the engine", .enabled(if: EngineAvailability.shouldRun))
struct EngineBasicsIntegrationTests {
    @Test("ping, version, negotiated API version, info, bridge gateway")
    func system() async throws {
        let client = try await EngineTestSupport.requireEngine()
        #expect(try await client.ping() == "OK")
        let version = try await client.version()
        let server = try #require(APIVersion(version.apiVersion))
        let negotiated = try await client.apiVersion()
        #expect(negotiated == min(server, .newestSupported))
        #expect(negotiated >= .oldestSupported)
        let info = try await client.info()
        #expect((info.ncpu ?? 0) > 0)
        #expect(info.serverVersion == version.version)
        let bridge = try await client.inspectNetwork("bridge")
        #expect(bridge.name == "bridge")
        let gateway = try #require(bridge.gateway)
        #expect(gateway.split(separator: ".").count == 4)
        await #expect {
            _ = try await client.inspectNetwork("no-such-network-\(UUID().uuidString)")
        } throws: { ($0 as? EngineError)?.code == .notFound }
    }

    @Test("pings reuse one connection")
    func connectionReuse() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await client.ping()
        let opened = client.http.connectionsOpened
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<200 { try await client.ping() }
        let each = (clock.now - start) / 200
        #expect(client.http.connectionsOpened == opened, "no new connection for sequential requests")
        print("sequential ping through EngineClient: \(each) each")
    }

    @Test("a missing socket gives the unreachable error at once (within 3 s, not a connect timeout)")
    func unreachable() async throws {
        let client = try EngineClient(socketPath: "/tmp/tandem-no-engine-\(UUID().uuidString).sock")
        let clock = ContinuousClock()
        // The fastest of three tries: on a loaded 2-core CI machine the other
        // suites' containers (and builds beside them) delayed this task itself
        // by 1.4 s. A missing socket fails at connect; what this guards against
        // is waiting for a timeout (tens of seconds).
        var fastest = Duration.seconds(60)
        for _ in 0..<3 {
            let start = clock.now
            await #expect {
                try await client.ping()
            } throws: { error in
                let e = error as? EngineError
                return e?.code == .unreachable
                    && e?.description == "cannot reach the container engine at \(client.endpointDescription) — is it running? docker/start-engine.sh starts one"
            }
            await #expect(throws: EngineError.self) { _ = try await client.listContainers() }
            fastest = min(fastest, clock.now - start)
        }
        #expect(fastest < .seconds(3))
    }

    @Test("images: build (with a failing build surfaced), inspect, list, tag, remove")
    func images() async throws {
        let client = try await EngineTestSupport.requireEngine()
        let id = try await EngineTestSupport.testImage(client)
        #expect(id.hasPrefix("sha256:"))
        let inspect = try await client.inspectImage(EngineTestSupport.imageReference)
        #expect(inspect.id == id)
        #expect(inspect.repoTags?.contains(EngineTestSupport.imageReference) == true)
        let extraTag = "tandem-test/busybox-tag-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.tagImage(EngineTestSupport.imageReference, repository: extraTag, tag: "v1")
        let listed = try await client.listImages(filters: ["reference": ["\(extraTag):v1"]])
        #expect(listed.map(\.id) == [id])
        let removed = try await client.removeImage("\(extraTag):v1")
        #expect(removed.contains { $0.untagged == "\(extraTag):v1" })
        await #expect {
            _ = try await client.inspectImage("\(extraTag):v1")
        } throws: { ($0 as? EngineError)?.code == .notFound }

        // A failing RUN step: the engine's message comes back as buildFailed.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-fail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "FROM \(EngineTestSupport.imageReference)\nRUN [\"/bin/sh\", \"-c\", \"echo failing; exit 7\"]\n"
            .write(to: dir.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let lines = LineCollector()
        await #expect {
            try await client.buildImage(contextDirectory: dir, progress: { lines.append($0) })
        } throws: { error in
            let e = error as? EngineError
            return e?.code == .buildFailed && (e?.message.contains("returned a non-zero code: 7") ?? false)
        }
        #expect(lines.all.contains { $0.stream?.contains("failing") == true })
        // Dangling intermediate containers are removed (forcerm), nothing is left labelled.
        await #expect {
            try await client.buildImage(contextDirectory: dir.appendingPathComponent("missing"))
        } throws: { ($0 as? EngineError)?.code == .invalidArgument }
    }
}

final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [BuildMessage] = []
    func append(_ m: BuildMessage) { lock.withLock { lines.append(m) } }
    var all: [BuildMessage] { lock.withLock { lines } }
}
