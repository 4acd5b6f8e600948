import Foundation
import Manifest
import Testing

@Suite("Parser")
struct ParserTests {
    static func parse(_ text: String) -> Result<Manifest, ManifestErrors> {
        ManifestParser.parse(text: text, fileName: "tandem.yaml")
    }

    @Test("defaults apply to every workload, the workload's value wins and env merges key by key")
    func defaults() throws {
        let manifest = try Self.parse("""
            version: 1
            defaults:
              memory: 256Mi
              contract: lambda
              env: {A: "1", B: "2"}
              concurrency: {reserved: 10}
            workloads:
              one:
                image: one:1
              two:
                image: two:1
                memory: 1Gi
                env: {B: three, C: "4"}
                concurrency: {provisioned: 2}
            """).get()
        #expect(manifest.workloads.map(\.name) == ["one", "two"])
        let one = try #require(manifest.workload(named: "one"))
        let two = try #require(manifest.workload(named: "two"))
        #expect(one.memory == .mebibytes(256))
        #expect(two.memory == .gibibytes(1))
        #expect(one.contract == .lambda)
        #expect(two.env == [.init(name: "A", value: "1"), .init(name: "B", value: "three"), .init(name: "C", value: "4")])
        #expect(two.concurrency == Concurrency(reserved: 10, provisioned: 2))
    }

    @Test("workloads keep the order of the file")
    func order() throws {
        let names = ["zeta", "alpha", "mid", "beta-2", "a1"]
        let text = "version: 1\nworkloads:\n" + names.map { "  \($0): {image: x, contract: http}\n" }.joined()
        #expect(try Self.parse(text).get().workloads.map(\.name) == names)
    }

    @Test("values not written get the documented defaults")
    func builtInDefaults() throws {
        let manifest = try Self.parse("""
            version: 1
            workloads:
              api:
                build: images/api
                contract: http
                replicas: {max: 4}
                health: {http: /healthz}
              job:
                image: job
                contract: command
                traffic: {rate: 5/s}
            """).get()
        let api = manifest.workloads[0]
        #expect(api.source == .build(context: "images/api", dockerfile: nil))
        #expect(api.mode == .auto)
        #expect(api.port == 8080)
        #expect(api.memory == .mebibytes(512))
        #expect(api.tmp == .mebibytes(512))
        #expect(api.state == .stateless)
        #expect(api.replicas == Replicas(min: 1, max: 4))
        #expect(api.health == HealthCheck(probe: .http(path: "/healthz")))
        #expect(manifest.workloads[1].port == nil)
        #expect(manifest.workloads[1].traffic?.rate == Rate(perSecond: 5))
    }

    @Test("YAML merge keys and x- extension keys are honoured")
    func mergeKeys() throws {
        let manifest = try Self.parse("""
            version: 1
            x-common: &common
              contract: http
              memory: 1Gi
            workloads:
              api:
                <<: *common
                image: api
                memory: 2Gi
            """).get()
        #expect(manifest.workloads[0].contract == .http)
        #expect(manifest.workloads[0].memory == .gibibytes(2))
    }

    @Test("commands given as one string are split into words like a shell would")
    func commandWords() throws {
        let manifest = try Self.parse("""
            version: 1
            workloads:
              job:
                image: job
                contract: command
                command: /job --name "two words" 'x y'
            """).get()
        #expect(manifest.workloads[0].command == ["/job", "--name", "two words", "x y"])
    }

    @Test("every error is reported, not only the first, sorted by position")
    func allErrors() {
        let result = Self.parse("""
            version: 1
            workloads:
              b:
                image: b
                contract: http
                port: 0
              a:
                image: a
                contract: nope
                memory: 5
            """)
        guard case let .failure(errors) = result else {
            Issue.record("accepted")
            return
        }
        #expect(errors.diagnostics.map { "\($0.line):\($0.column) \($0.keyPath)" } == [
            "6:11 workloads.b.port", "9:15 workloads.a.contract", "10:13 workloads.a.memory",
        ])
    }

    @Test("an error under defaults is reported once, at its place in defaults")
    func defaultsErrorOnce() {
        let result = Self.parse("""
            version: 1
            defaults:
              timeout: 30
            workloads:
              a: {image: a, contract: http}
              b: {image: b, contract: http}
            """)
        #expect(result.printed == """
            tandem.yaml:3:12: defaults.timeout: a duration needs a unit, found "30"
              hint: write 30s for seconds or 30ms for milliseconds
            """)
    }

    @Test("the file name in messages is the path as given")
    func fileName() {
        let result = ManifestParser.parse(text: "version: 1\nworkloads: {a: {image: a, contract: htp}}\n", fileName: "../deploy/prod.yaml")
        #expect(result.printed.hasPrefix("../deploy/prod.yaml:2:"))
    }
}

@Suite("Hostile input")
struct HostileInputTests {
    @Test("a 10 MB manifest is parsed in reasonable time")
    func tenMegabytes() async throws {
        // Seconds of CPU: on a thread of its own, not one of the two the
        // cooperative pool has here (every other test would wait for it).
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try Self.parseTenMegabytes() }) }
        }
    }

    static func parseTenMegabytes() throws {
        var text = "version: 1\nworkloads:\n"
        var count = 0
        while text.utf8.count < 10 << 20 {
            text += """
                  w\(count):
                    image: img\(count):latest
                    contract: http
                    memory: 256Mi
                    env: {A: "1", B: "two", C: three}
                    triggers:
                      - http: {path: /w\(count), methods: [GET, POST]}

                """
            count += 1
        }
        let clock = ContinuousClock()
        var result: Result<Manifest, ManifestErrors>?
        let elapsed = clock.measure { result = ManifestParser.parse(text: text, fileName: "big.yaml") }
        let manifest = try #require(try result?.get())
        print("parsed \(text.utf8.count) bytes, \(count) workloads in \(elapsed)")
        #expect(manifest.workloads.count == count)
        #expect(elapsed < .seconds(60), "parsing 10 MB took \(elapsed)")
    }

    @Test("a manifest over the limit is refused with a clear message")
    func tooLarge() {
        let text = "version: 1\n#" + String(repeating: "x", count: ManifestParser.maxBytes)
        #expect(ManifestParser.parse(text: text, fileName: "huge.yaml").printed == "huge.yaml is too large: 16.0 MB (limit 16 MB)")
    }

    @Test("billion laughs does not blow up")
    func billionLaughs() {
        var text = "version: 1\nx-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            text += "x-\(level): &l\(level) [\(refs)]\n"
        }
        text += "workloads:\n  a:\n    image: a\n    contract: command\n    command: *l9\n    env: *l9\n    triggers: *l9\n"
        let clock = ContinuousClock()
        var printed = ""
        let elapsed = clock.measure { printed = ManifestParser.parse(text: text, fileName: "lol.yaml").printed }
        #expect(printed.contains("workloads.a.command[0]: expected a string, found a list"))
        #expect(elapsed < .seconds(5))
    }

    @Test("an alias used as a key is refused before it can be hashed")
    func aliasKey() {
        var text = "x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            text += "x-\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "version: 1\nworkloads:\n  ? *l9\n  : x\n"
        #expect(ManifestParser.parse(text: text, fileName: "t.yaml").printed == "t.yaml:13:5: an alias cannot be used as a mapping key")
    }

    @Test("an undefined alias is a syntax error with a position")
    func undefinedAlias() {
        #expect(ManifestParser.parse(text: "version: 1\nworkloads: *nope\n", fileName: "t.yaml").printed
            == "t.yaml:2:12: YAML syntax error: found undefined alias")
    }
}

@Suite("Loader")
struct LoaderTests {
    @Test("a missing file is a clear error")
    func missing() {
        #expect(throws: ManifestLoadError.unreadable(path: "/nonexistent/tandem.yaml", reason: "no such file")) {
            try ManifestLoader.load(path: "/nonexistent/tandem.yaml")
        }
    }

    @Test("a file that is not UTF-8 is refused")
    func binary() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-binary-\(UUID()).yaml")
        try Data([0xFF, 0xFE, 0x00, 0xC3, 0x28]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try ManifestLoader.load(path: url.path)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "\(url.path) is not UTF-8 text: expected a YAML manifest")
        }
    }

    @Test("the example manifest loads from disk")
    func example() throws {
        let manifest = try ManifestLoader.load(path: Paths.examples.appendingPathComponent("tandem.yaml").path)
        #expect(manifest.workloads.map(\.name) == ["thumb", "api", "report", "fulfil"])
        #expect(manifest.queues.map(\.name) == ["orders", "orders-failed"])
    }
}
