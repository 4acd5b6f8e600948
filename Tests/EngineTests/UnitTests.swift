import Foundation
import Testing

@testable import Engine

@Suite("Request encoding")
struct RequestEncodingTests {
    @Test("the create body uses the Engine API's key names exactly")
    func createBodyKeys() throws {
        var spec = ContainerSpec(image: "img", cmd: ["sh"], labels: ["a": "b"])
        spec.entrypoint = ["/init"]
        spec.env = ["A=1"]
        spec.user = "1000"
        spec.workingDir = "/w"
        spec.openStdin = true
        spec.stdinOnce = true
        spec.attachStdin = true
        spec.stopTimeout = 3
        spec.exposedPorts = ["8080/tcp": EmptyObject()]
        var host = HostConfig()
        host.memory = 1
        host.memorySwap = 2
        host.nanoCpus = 3
        host.pidsLimit = 4
        host.readonlyRootfs = true
        host.tmpfs = ["/tmp": "rw,size=64m"]
        host.capDrop = ["ALL"]
        host.securityOpt = ["no-new-privileges"]
        host.`init` = true
        host.ulimits = [Ulimit(name: "nofile", soft: 20000, hard: 20000)]
        host.autoRemove = true
        host.networkMode = "none"
        host.portBindings = ["8080/tcp": [PortBinding(hostIP: "127.0.0.1", hostPort: "0")]]
        host.mounts = [.bind(source: "/src", target: "/dst", readOnly: true), .tmpfs(target: "/t", sizeBytes: 5, mode: 0o1777)]
        spec.hostConfig = host
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(spec)) as? [String: Any]
        let top = try #require(json)
        #expect(Set(top.keys) == [
            "Image", "Cmd", "Labels", "Entrypoint", "Env", "User", "WorkingDir", "OpenStdin", "StdinOnce",
            "AttachStdin", "StopTimeout", "ExposedPorts", "HostConfig",
        ])
        let hc = try #require(top["HostConfig"] as? [String: Any])
        #expect(Set(hc.keys) == [
            "Memory", "MemorySwap", "NanoCpus", "PidsLimit", "ReadonlyRootfs", "Tmpfs", "CapDrop", "SecurityOpt",
            "Init", "Ulimits", "AutoRemove", "NetworkMode", "PortBindings", "Mounts",
        ])
        let ulimit = try #require((hc["Ulimits"] as? [[String: Any]])?.first)
        #expect(Set(ulimit.keys) == ["Name", "Soft", "Hard"])
        let binding = try #require((hc["PortBindings"] as? [String: [[String: Any]]])?["8080/tcp"]?.first)
        #expect(binding["HostIp"] as? String == "127.0.0.1")
        #expect(binding["HostPort"] as? String == "0")
        let mounts = try #require(hc["Mounts"] as? [[String: Any]])
        #expect(mounts[0]["Type"] as? String == "bind")
        #expect(mounts[0]["ReadOnly"] as? Bool == true)
        #expect(mounts[1]["Type"] as? String == "tmpfs")
        #expect((mounts[1]["TmpfsOptions"] as? [String: Any])?["SizeBytes"] as? Int == 5)
        #expect((mounts[1]["TmpfsOptions"] as? [String: Any])?["Mode"] as? Int == 0o1777)
    }

    @Test("unset fields are not sent")
    func nilsOmitted() throws {
        let text = String(decoding: try JSONEncoder().encode(ContainerSpec(image: "x")), as: UTF8.self)
        #expect(text == #"{"Image":"x"}"#)
    }

    @Test("query values are percent-encoded (RFC 3986 unreserved kept)", arguments: [
        ("a b", "a%20b"), ("k=v&x", "k%3Dv%26x"), ("tandem/x:1", "tandem%2Fx%3A1"), ("é", "%C3%A9"),
        ("A-z_0.9~", "A-z_0.9~"), (#"{"label":["a=b"]}"#, "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D"),
    ])
    func queryEscaping(raw: String, escaped: String) {
        #expect(Query.escape(raw) == escaped)
    }

    @Test("a query keeps order and skips nil values")
    func queryOrder() {
        var q = Query()
        q.add("all", true)
        q.add("name", nil as String?)
        q.add("t", 5)
        q.add("x", "a b")
        #expect(q.encoded == "?all=1&t=5&x=a%20b")
        #expect(Query().encoded == "")
    }

    @Test("label filters are JSON-encoded with sorted keys and escaped strings")
    func filters() {
        #expect(EngineClient.filtersJSON([:]) == nil)
        #expect(EngineClient.filtersJSON(["label": ["tandem.test=1", "a\"b"], "type": ["container"]])
            == #"{"label":["tandem.test=1","a\"b"],"type":["container"]}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data((EngineClient.filtersJSON(["label": ["x=\n"]]) ?? "").utf8))
        #expect((parsed as? [String: [String]])?["label"] == ["x=\n"])
    }

    @Test("image references keep their slashes in paths; ids and names are escaped")
    func pathSegments() {
        #expect(EngineClient.imageSegment("tandem-test/busybox:latest") == "tandem-test/busybox%3Alatest")
        #expect(EngineClient.segment("a/b c") == "a%2Fb%20c")
    }
}

@Suite("Response decoding of captured samples")
struct ResponseDecodingTests {
    let decoder = JSONDecoder()

    @Test("container inspect: state, network settings, applied host config")
    func inspect() throws {
        let value = try decoder.decode(ContainerInspect.self, from: Data(Samples.inspect.utf8))
        #expect(value.name == "/tandem-sample")
        #expect(value.state.status == "running")
        #expect(value.state.running)
        #expect(!value.state.paused)
        #expect(!value.state.oomKilled)
        #expect(value.state.pid > 0)
        #expect(value.state.exitCode == 0)
        #expect(value.state.startedAt?.hasPrefix("20") == true)
        #expect(value.state.finishedAt == "0001-01-01T00:00:00Z")
        #expect(value.hostConfig?.memory == 64 << 20)
        #expect(value.hostConfig?.pidsLimit == 32)
        #expect(value.hostConfig?.`init` == true)
        #expect(value.hostConfig?.capDrop == ["ALL"])
        #expect(value.hostConfig?.tmpfs == ["/tmp": "rw,size=8m"])
        #expect(value.config?.labels?["tandem.sample"] == "yes")
        let ip = try #require(value.ipAddress(network: "bridge"))
        #expect(ip.hasPrefix("172."))
        #expect(value.ipAddress() == ip)
    }

    @Test("version and info")
    func versionInfo() throws {
        let version = try decoder.decode(VersionInfo.self, from: Data(Samples.version.utf8))
        #expect(version.apiVersion == "1.41")
        #expect(version.minAPIVersion == "1.12")
        #expect(!version.isPodman)
        let info = try decoder.decode(SystemInfo.self, from: Data(Samples.info.utf8))
        #expect(info.ncpu == 2)
        #expect(info.cgroupDriver == "cgroupfs")
        #expect(info.serverVersion == version.version)
    }

    @Test("one-shot stats: memory usage and max, CPU total and system")
    func stats() throws {
        let stats = try decoder.decode(ContainerStats.self, from: Data(Samples.stats.utf8))
        #expect(stats.memoryStats?.usage == 770048)
        #expect(stats.memoryStats?.maxUsage == 4083712)
        #expect(stats.memoryStats?.limit == 67108864)
        #expect(stats.cpuStats?.cpuUsage?.totalUsage == 28423647)
        #expect(stats.cpuStats?.systemCPUUsage == 1471700000000)
        #expect(stats.cpuStats?.onlineCPUs == 2)
    }

    @Test("events: type, action, actor id, attributes, time")
    func events() throws {
        var splitter = JSONLineSplitter()
        let lines = splitter.feed(Array(Samples.events.utf8)) + (splitter.finish().map { [$0] } ?? [])
        let events = try lines.map { try decoder.decode(EngineEvent.self, from: Data($0)) }
        #expect(events.map(\.action).prefix(3) == ["create", "start", "kill"])
        #expect(events.allSatisfy { $0.type == "container" && $0.actor.id.count == 64 })
        #expect(events[0].actor.attributes["tandem.sample"] == "yes")
        #expect(events[0].actor.attributes["name"] == "tandem-sample")
        #expect(events[0].time > 1_700_000_000)
        #expect(events.contains { $0.action == "die" && $0.actor.attributes["exitCode"] == "137" })
    }

    @Test("the JSON line splitter keeps partial lines across chunks")
    func lineSplitter() {
        let text = Array("{\"a\":1}\n\n{\"b\":2}\r\n{\"c\"".utf8)
        for cut in 0...text.count {
            var s = JSONLineSplitter()
            var lines = s.feed(Array(text[..<cut])) + s.feed(Array(text[cut...]))
            if let last = s.finish() { lines.append(last) }
            #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}\r", "{\"c\""])
        }
    }

    @Test("network gateway: explicit, or the subnet's first host")
    func gateway() throws {
        let explicit = #"{"Name":"n","Id":"i","IPAM":{"Config":[{"Subnet":"10.0.0.0/24","Gateway":"10.0.0.254"}]}}"#
        #expect(try decoder.decode(NetworkInspect.self, from: Data(explicit.utf8)).gateway == "10.0.0.254")
        let implicit = #"{"Name":"bridge","Id":"i","IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"172.17.0.0/16"}]}}"#
        #expect(try decoder.decode(NetworkInspect.self, from: Data(implicit.utf8)).gateway == "172.17.0.1")
        let none = #"{"Name":"none","Id":"i","IPAM":{"Driver":"default","Config":[]}}"#
        #expect(try decoder.decode(NetworkInspect.self, from: Data(none.utf8)).gateway == nil)
        #expect(NetworkInspect.firstHost(ofSubnet: "nonsense") == nil)
    }
}

@Suite("Frame demultiplexing")
struct DemultiplexerTests {
    static func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let n = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    static let stream: [UInt8] = frame(1, "out1\n") + frame(2, "err1\n") + frame(1, "") + frame(0, "in")
        + frame(1, String(repeating: "x", count: 300)) + frame(2, "err2") + frame(3, "sys")

    static func merged(_ chunks: [LogChunk]) -> [LogChunk] {
        var result: [LogChunk] = []
        for c in chunks {
            if let last = result.last, last.stream == c.stream { result[result.count - 1].bytes += c.bytes } else { result.append(c) }
        }
        return result
    }

    static let expected: [LogChunk] = [
        LogChunk(stream: .stdout, bytes: Array("out1\n".utf8)),
        LogChunk(stream: .stderr, bytes: Array("err1\n".utf8)),
        LogChunk(stream: .stdin, bytes: Array("in".utf8)),
        LogChunk(stream: .stdout, bytes: Array(String(repeating: "x", count: 300).utf8)),
        LogChunk(stream: .stderr, bytes: Array("err2".utf8)),
        LogChunk(stream: .systemError, bytes: Array("sys".utf8)),
    ]

    @Test("frames split in two at every byte boundary come out whole and in order")
    func everySplit() throws {
        for cut in 0...Self.stream.count {
            var d = LogDemultiplexer()
            let chunks = try d.feed(Self.stream[..<cut]) + d.feed(Self.stream[cut...])
            #expect(chunks == Self.expected, "cut at \(cut)")
            try d.finish()
        }
    }

    @Test("one byte at a time")
    func byteAtATime() throws {
        var d = LogDemultiplexer()
        var chunks: [LogChunk] = []
        for byte in Self.stream { chunks += try d.feed([byte]) }
        #expect(chunks == Self.expected)
        #expect(d.pendingByteCount == 0)
    }

    @Test("empty frames produce nothing")
    func emptyFrames() throws {
        var d = LogDemultiplexer()
        #expect(try d.feed(Self.frame(1, "") + Self.frame(2, "")).isEmpty)
        try d.finish()
    }

    @Test("a stream cut inside a frame is reported at the end", arguments: [3, 8, 12])
    func truncated(cut: Int) throws {
        var d = LogDemultiplexer()
        let bytes = Self.frame(1, "hello world")
        _ = try d.feed(bytes.prefix(cut))
        #expect(d.pendingByteCount == cut)
        #expect { try d.finish() } throws: { ($0 as? EngineError)?.code == .decoding }
    }

    @Test("an unknown stream id (a TTY stream read as frames) is an error")
    func unknownStream() {
        var d = LogDemultiplexer()
        #expect { _ = try d.feed(Array("hello, raw tty text".utf8)) } throws: { ($0 as? EngineError)?.code == .decoding }
    }
}

@Suite("Tar writer")
struct TarWriterTests {
    @Test("a context with a path longer than 100 bytes and a long symlink round-trips through tar -tvf")
    func longNames() async throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("tandem-tar-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: root) }
        let deep = (0..<6).map { "directory-level-\($0)-with-a-long-name" }.joined(separator: "/")
        try fm.createDirectory(at: root.appendingPathComponent(deep), withIntermediateDirectories: true)
        let longFile = deep + "/file-with-a-name-that-is-long.txt"
        #expect(longFile.utf8.count > 100)
        try "deep content\n".write(to: root.appendingPathComponent(longFile), atomically: true, encoding: .utf8)
        try Data(repeating: 7, count: 1000).write(to: root.appendingPathComponent("blob.bin"))
        try "#!/bin/sh\n".write(to: root.appendingPathComponent("run.sh"), atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("run.sh").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("link").path, withDestinationPath: longFile)

        let archive = try await TarWriter.archive(directory: root)
        #expect(archive.count % 512 == 0)
        let tarFile = fm.temporaryDirectory.appendingPathComponent("tandem-tar-\(UUID().uuidString).tar")
        defer { try? fm.removeItem(at: tarFile) }
        try Data(archive).write(to: tarFile)

        let listing = try run("/bin/tar", ["-tvf", tarFile.path])
        #expect(listing.contains(longFile))
        #expect(listing.contains("link -> \(longFile)"))
        #expect(listing.contains("-rwxr-xr-x"))
        #expect(listing.contains(" 1000 "))

        let out = fm.temporaryDirectory.appendingPathComponent("tandem-untar-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: out) }
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        _ = try run("/bin/tar", ["-xf", tarFile.path, "-C", out.path])
        #expect(try String(contentsOf: out.appendingPathComponent(longFile), encoding: .utf8) == "deep content\n")
        #expect(try Data(contentsOf: out.appendingPathComponent("blob.bin")) == Data(repeating: 7, count: 1000))
    }

    @Test("a PAX record's length counts itself", arguments: ["a", String(repeating: "p", count: 95), String(repeating: "q", count: 990)])
    func paxLength(value: String) {
        let record = TarWriter.paxRecord(key: "path", value: value)
        let text = String(decoding: record, as: UTF8.self)
        let length = Int(text.prefix { $0 != " " })
        #expect(length == record.count)
    }

    @Test("the header checksum is what tar expects")
    func checksum() {
        let header = TarWriter.header(path: "a.txt", kind: .file(size: 5), mode: 0o644)
        #expect(header.count == 512)
        var copy = header
        for i in 148..<156 { copy[i] = UInt8(ascii: " ") }
        let sum = copy.reduce(0) { $0 + Int($1) }
        let field = String(decoding: header[148..<154], as: UTF8.self)
        #expect(Int(field, radix: 8) == sum)
    }

    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(tool) \(arguments): \(text)")
        return text
    }
}

@Suite("Error mapping")
struct ErrorMappingTests {
    @Test("status and body map to a kind and keep the engine's message", arguments: [
        (404, #"{"message":"No such container: abc"}"#, EngineError.Code.notFound, "No such container: abc"),
        (409, #"{"message":"Conflict. The container name \"/x\" is already in use"}"#, .conflict, #"Conflict. The container name "/x" is already in use"#),
        (400, #"{"message":"Minimum memory limit allowed is 6MB"}"#, .badRequest, "Minimum memory limit allowed is 6MB"),
        (304, "", .notModified, "not modified"),
        (500, #"{"message":"something broke"}"#, .server, "something broke"),
        (500, #"{"cause":"that name is already in use","message":"creating container storage: the container name \"x\" is already in use","response":500}"#, .conflict, #"creating container storage: the container name "x" is already in use"#),
        (500, #"{"cause":"container state improper","message":"cannot remove container abc as it is running","response":500}"#, .conflict, "cannot remove container abc as it is running"),
        (500, #"{"message":"no such container"}"#, .notFound, "no such container"),
        (502, "plain text\n", .server, "plain text"),
        (401, "", .badRequest, "HTTP status 401"),
    ])
    func mapping(status: Int, body: String, code: EngineError.Code, message: String) {
        let error = EngineError.from(status: status, body: Array(body.utf8), operation: "POST /containers/create")
        #expect(error.code == code)
        #expect(error.message == message)
        #expect(error.status == status)
        #expect(error.operation == "POST /containers/create")
        #expect(error.description.hasPrefix("POST /containers/create: "))
    }

    @Test("the unreachable message names the socket and the fix")
    func unreachable() {
        let e = EngineError.unreachable(socket: "/run/x.sock", operation: "GET /_ping", underlying: nil)
        #expect(e.description == "cannot reach the container engine at /run/x.sock — is it running? docker/start-engine.sh starts one")
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test("DOCKER_HOST=unix://… picks the socket; unset or empty means /var/run/docker.sock", arguments: [
        ([:], "/var/run/docker.sock"),
        (["DOCKER_HOST": ""], "/var/run/docker.sock"),
        (["DOCKER_HOST": "  "], "/var/run/docker.sock"),
        (["DOCKER_HOST": "unix:///run/podman/podman.sock"], "/run/podman/podman.sock"),
        (["DOCKER_HOST": "unix://"], "/var/run/docker.sock"),
        (["DOCKER_HOST": " unix:///tmp/d.sock "], "/tmp/d.sock"),
    ])
    func dockerHost(environment: [String: String], expected: String) throws {
        #expect(try EngineClient.defaultSocketPath(environment: environment) == expected)
    }

    @Test("a DOCKER_HOST that is not a Unix socket is refused with its reason, never replaced by the default", arguments: [
        "tcp://127.0.0.1:2375", "ssh://user@host", "npipe:////./pipe/docker_engine", "/var/run/docker.sock", "http://x",
    ])
    func dockerHostRefused(host: String) {
        do {
            let path = try EngineClient.defaultSocketPath(environment: ["DOCKER_HOST": host])
            Issue.record("DOCKER_HOST=\(host) gave \(path)")
        } catch {
            #expect(error.code == .unsupportedEndpoint)
            #expect(error.description.contains("DOCKER_HOST=\(host) is not a Unix socket"))
            #expect(error.description.contains("unix:///"))
        }
    }

    @Test("API version negotiation takes min(server, 1.47)", arguments: [
        ("1.41", "1.41"), ("1.47", "1.47"), ("1.51", "1.47"), ("1.40", "1.40"), ("2.0", "1.47"),
    ])
    func negotiation(server: String, expected: String) throws {
        let parsed = try #require(APIVersion(server))
        #expect(APIVersion.negotiate(server: parsed).description == expected)
    }

    @Test("malformed versions are rejected", arguments: ["", "1", "1.x", "a.b", "1.2.3", "-1.2"])
    func badVersions(text: String) {
        #expect(APIVersion(text) == nil)
    }
}
