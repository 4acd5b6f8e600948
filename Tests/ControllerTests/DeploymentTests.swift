import FunctionMode
import Manifest
import Placement
import Testing
@testable import Controller
import ServiceMode

/// The deployment plan, pure: manifest text → Deployment → diffs (no engine).
@Suite("Deployment")
struct DeploymentTests {
    static let manifest = """
        version: 1
        workloads:
          echo:
            image: tandem/echo:latest
            contract: lambda
            mode: function
            memory: 256Mi
            timeout: 5s
            env:
              GREETING: hi
          web:
            image: tandem/web:latest
            contract: http
            mode: function
            port: 8080
          upper:
            image: tandem/upper:latest
            contract: command
            mode: function
          api:
            image: tandem/api:latest
            contract: http
            mode: service
            port: 8080
          nightly:
            image: tandem/nightly:latest
            contract: command
            mode: task
        """

    static func deployment(_ text: String = manifest, project: String = "p1") throws -> Deployment {
        let manifest = try ManifestParser.parse(text: text, fileName: "tandem.yaml").get()
        let decisions = PlacementModel().decide(manifest, machine: MachineCapacity(memoryMiB: 16384))
        return Deployment(manifest: manifest, decisions: decisions, project: project)
    }

    @Test("each workload gets its mode, its runner kind and, in function mode, its function definition")
    func plan() throws {
        let deployment = try Self.deployment()
        #expect(deployment.workloads.map(\.name) == ["echo", "web", "upper", "api", "nightly"])
        #expect(deployment.workloads.map(\.kind) == [.functionHost, .functionHost, .commandRunner, .serviceHost, .taskRunner])
        #expect(deployment.workloads.map(\.mode) == [.function, .function, .function, .service, .task])
        let echo = try #require(deployment["echo"]?.function)
        #expect(echo.image == "tandem/echo:latest")
        #expect(echo.memoryMiB == 256)
        #expect(echo.timeout == .seconds(5))
        #expect(echo.environment == ["GREETING": "hi"])
        #expect(deployment["web"]?.function?.contract == .http(port: 8080))
        #expect(deployment["upper"]?.function != nil)
        #expect(deployment["api"]?.function == nil)
        #expect(deployment["nightly"]?.function == nil)
        #expect(deployment.kind(of: "upper") == .commandRunner)
        #expect(deployment.kind(of: "ghost") == nil)
        #expect(deployment.workloads(of: .functionHost).map(\.name) == ["echo", "web"])
    }

    @Test("a built image is tagged with the project's label")
    func builtImage() throws {
        let deployment = try Self.deployment("""
            version: 1
            workloads:
              echo:
                build: images/echo
                contract: lambda
                mode: function
            """, project: "abc123")
        #expect(deployment["echo"]?.image == "tandem/echo-abc123:latest")
        #expect(deployment["echo"]?.function?.image == "tandem/echo-abc123:latest")
    }

    @Test("the revision is stable across runs: the same manifest gives the same 16-digit revisions")
    func stableRevision() throws {
        let first = try Self.deployment()
        let second = try Self.deployment()
        #expect(first == second)
        #expect(first.workloads.map(\.revision.rawValue) == second.workloads.map(\.revision.rawValue))
        #expect(first.workloads.allSatisfy { $0.revision.rawValue.count == 16 })
        #expect(Set(first.workloads.map(\.revision)).count == first.workloads.count)
        // A fixed value: a Hasher-based revision would change from one process to the next.
        let known = DeployedWorkload(
            try ManifestParser.parse(text: """
                version: 1
                workloads:
                  f:
                    image: i:1
                    contract: lambda
                    mode: function
                    env:
                      B: "2"
                      A: "1"
                """, fileName: "t.yaml").get().workloads[0], mode: .function, project: "p")
        #expect(known.revision.rawValue == "b6958f18d0d2a695")
        #expect(known.revision == DeployedWorkload(known.workload, mode: .function, project: "p").revision)
        var reordered = known.workload
        reordered.env.reverse()
        // The function's environment is a set of variables: their order does not matter.
        #expect(DeployedWorkload(reordered, mode: .function, project: "p").revision == known.revision)
    }

    @Test("the revision changes with a setting the runner uses", arguments: [
        ("memory: 256Mi", "memory: 512Mi"),
        ("timeout: 5s", "timeout: 6s"),
        ("GREETING: hi", "GREETING: hello"),
        ("image: tandem/echo:latest", "image: tandem/echo:v2"),
    ])
    func revisionChanges(before: String, after: String) throws {
        let old = try Self.deployment()
        let new = try Self.deployment(Self.manifest.replacingOccurrences(of: before, with: after))
        #expect(old["echo"]?.revision != new["echo"]?.revision)
        #expect(old["web"]?.revision == new["web"]?.revision)
    }

    @Test("the diff of a deployment with itself: everything unchanged")
    func diffUnchanged() throws {
        let deployment = try Self.deployment()
        let diff = deployment.diff(from: deployment)
        #expect(diff.isEmpty)
        #expect(diff.unchanged.map(\.name) == ["echo", "web", "upper", "api", "nightly"])
    }

    @Test("the diff names added, removed, changed and unchanged workloads")
    func diff() throws {
        let old = try Self.deployment()
        let edited = Self.manifest
            .replacingOccurrences(of: "memory: 256Mi", with: "memory: 512Mi")   // echo changes
            .replacingOccurrences(of: """
                  nightly:
                    image: tandem/nightly:latest
                    contract: command
                    mode: task
                """, with: """
                  extra:
                    image: tandem/extra:latest
                    contract: lambda
                    mode: function
                """)
        let new = try Self.deployment(edited)
        let diff = new.diff(from: old)
        #expect(diff.added.map(\.name) == ["extra"])
        #expect(diff.removed.map(\.name) == ["nightly"])
        #expect(diff.changed.map(\.new.name) == ["echo"])
        #expect(diff.changed.first?.old.function?.memoryMiB == 256)
        #expect(diff.changed.first?.new.function?.memoryMiB == 512)
        #expect(diff.unchanged.map(\.name) == ["web", "upper", "api"])
        #expect(!diff.isEmpty)
    }

    @Test("a move to another mode is a change (a new runner), even with the same settings")
    func modeSwitch() throws {
        let old = try Self.deployment()
        let new = try Self.deployment(Self.manifest.replacingOccurrences(of: """
              api:
                image: tandem/api:latest
                contract: http
                mode: service
            """, with: """
              api:
                image: tandem/api:latest
                contract: http
                mode: function
            """))
        let diff = new.diff(from: old)
        #expect(diff.changed.map(\.new.name) == ["api"])
        #expect(diff.changed.first?.old.kind == .serviceHost)
        #expect(diff.changed.first?.new.kind == .functionHost)
    }
}

@Suite("Deployment: service and task specs")
struct ServiceDeploymentTests {
    @Test("a lambda workload in service mode runs on the function host as always-warm environments")
    func lambdaInServiceMode() throws {
        let deployment = try DeploymentTests.deployment("""
            version: 1
            workloads:
              echo:
                image: tandem/echo:latest
                contract: lambda
                mode: service
                replicas: {min: 3, max: 5}
              fn:
                image: tandem/echo:latest
                contract: lambda
                mode: function
            """)
        let echo = try #require(deployment["echo"])
        #expect(echo.kind == .functionHost && echo.mode == .service)
        let definition = try #require(echo.function)
        #expect(definition.alwaysWarm)
        #expect(definition.provisionedConcurrency == 3 && definition.reservedConcurrency == 3)
        #expect(definition.timeout == .seconds(900), "Lambda's 15 minutes unless timeout says otherwise")
        let settings = FunctionHostSettings().poolSettings(for: definition)
        #expect(settings.freezeGrace == PoolSettings.never && settings.reapAfter == PoolSettings.never)
        #expect(settings.waitingLimit == FunctionDefinition.alwaysWarmWaitingLimit)
        let function = try #require(deployment["fn"]?.function)
        #expect(!function.alwaysWarm)
        #expect(FunctionHostSettings().poolSettings(for: function).waitingLimit == 0, "function mode throttles like Lambda")
    }

    @Test("an http service and a task carry their specs: replicas, health, stop timeout, volume, retries, reserved")
    func serviceAndTaskSpecs() throws {
        let deployment = try DeploymentTests.deployment("""
            version: 1
            workloads:
              api:
                image: tandem/api:latest
                contract: http
                mode: service
                port: 9000
                memory: 256Mi
                replicas: {min: 2, max: 4}
                state: stateful
                volume: /data
                stop_timeout: 20s
                concurrency: {per_replica: 8}
                health: {http: /healthz, interval: 5s, retries: 2}
              nightly:
                image: tandem/nightly:latest
                contract: command
                mode: task
                timeout: 2h
                retries: 3
                concurrency: {reserved: 1}
            """)
        let api = try #require(deployment["api"]?.service)
        #expect(api.replicas == 2 && api.port == 9000 && api.memoryBytes == 256 << 20)
        #expect(api.health == HealthPolicy(probe: .http(path: "/healthz"), interval: .seconds(5), timeout: .seconds(5), retries: 2))
        #expect(api.stopTimeout == .seconds(20) && api.perReplica == 8 && api.volumePath == "/data")
        #expect(api.revision == deployment["api"]?.revision.rawValue)
        let nightly = try #require(deployment["nightly"]?.task)
        #expect(nightly.timeout == .seconds(7200) && nightly.retries == 3 && nightly.reserved == 1)
        #expect(deployment["nightly"]?.service == nil && deployment["api"]?.task == nil)
    }
}

@Suite("Triggers not run yet")
struct TriggerSupportTests {
    @Test("schedule, watch and queue triggers are named with what to do instead; http routes are not")
    func notRun() throws {
        let manifest = try ManifestParser.parse(text: """
            version: 1
            queues:
              orders: {}
            workloads:
              fn:
                image: i:1
                contract: lambda
                mode: function
                triggers:
                  - http: {path: /fn}
                  - schedule: rate(5 minutes)
                  - watch: {path: ./in, pattern: "*.csv"}
                  - queue: {name: orders}
              nightly:
                image: i:1
                contract: command
                mode: task
                triggers:
                  - schedule: cron(0 3 * * ? *)
            """, fileName: "t.yaml").get()
        #expect(TriggerSupport.notRun(by: manifest.workloads[0]) == [
            "fn: its schedule rate(5 minutes) is not run by this version yet; nothing fires it (start it with `tandem invoke fn`)",
            "fn: its watch of ./in (*.csv) is not run by this version yet; nothing fires it (start it with `tandem invoke fn`)",
            "fn: its queue trigger on orders is not run by this version yet; nothing fires it (start it with `tandem invoke fn`)",
        ])
        #expect(TriggerSupport.notRun(by: manifest.workloads[1]) == [
            "nightly: its schedule cron(0 3 * * ? *) is not run by this version yet; nothing fires it (start it with `tandem run nightly`)",
        ])
    }
}
