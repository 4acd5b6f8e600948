import Engine
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Gating and shared fixtures for tests that need a running engine.
///
/// Integration tests carry `.enabled(if: EngineTestSupport.shouldRun)`: they run
/// when the engine answers, and also when `CI=true` — then an unreachable engine
/// makes them fail loudly through ``requireEngine()`` instead of being skipped.
enum EngineTestSupport {
    static let socketPath = EngineClient.defaultSocketPath()
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let imageReference = "tandem-test/busybox:latest"
    static let testLabel = "tandem.test"

    /// Whether something accepts connections on the engine socket (checked once).
    static let engineAnswers: Bool = {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }()

    /// True when the engine answers, or when running in CI (where a missing engine must fail).
    static var shouldRun: Bool { engineAnswers || isCI }

    /// A client for the engine, or a failed expectation naming the socket.
    static func requireEngine() async throws -> EngineClient {
        let client = try EngineClient(socketPath: socketPath)
        var reachable = true
        do { try await client.ping(timeout: .seconds(3)) } catch { reachable = false }
        try #require(reachable, "the container engine is not reachable at \(socketPath) — run docker/start-engine.sh")
        return client
    }

    /// Builds the busybox test image once per test process.
    static func testImage(_ client: EngineClient) async throws -> String {
        try await ImageOnce.shared.build(client)
    }

    /// Labels for every container a test creates.
    static func labels(_ extra: [String: String] = [:]) -> [String: String] {
        var labels = extra
        labels[testLabel] = "1"
        return labels
    }

    /// A container spec with the test image and label.
    static func spec(_ cmd: [String], configure: (inout ContainerSpec) -> Void = { _ in }) -> ContainerSpec {
        var spec = ContainerSpec(image: imageReference, cmd: cmd, labels: labels())
        spec.hostConfig = HostConfig()
        spec.hostConfig?.networkMode = "none"
        configure(&spec)
        return spec
    }

    /// Runs `body` with a tracker of created containers; removes them all afterwards,
    /// also when `body` throws.
    static func withContainers<T>(
        _ client: EngineClient, _ body: (ContainerTracker) async throws -> T
    ) async throws -> T {
        _ = try await testImage(client)
        let tracker = ContainerTracker(client: client)
        do {
            let value = try await body(tracker)
            await tracker.removeAll()
            return value
        } catch {
            await tracker.removeAll()
            throw error
        }
    }
}

/// Creates containers and remembers them for removal.
final class ContainerTracker: @unchecked Sendable {
    let client: EngineClient
    private let lock = NSLock()
    private var ids: [String] = []

    init(client: EngineClient) { self.client = client }

    func create(_ spec: ContainerSpec, name: String? = nil) async throws -> String {
        let id = try await client.createContainer(spec, name: name).id
        lock.withLock { ids.append(id) }
        return id
    }

    func removeAll() async {
        let all = lock.withLock { ids }
        for id in all { try? await client.removeContainer(id, force: true) }
    }
}

/// The shared build of the test image.
actor ImageOnce {
    static let shared = ImageOnce()
    private var task: Task<String, any Error>?

    func build(_ client: EngineClient) async throws -> String {
        if let task { return try await task.value }
        let task = Task { () throws -> String in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-test-image-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir.appendingPathComponent("busybox").path)
            try """
            FROM scratch
            COPY busybox /bin/busybox
            RUN ["/bin/busybox", "--install", "-s", "/bin"]
            """.write(to: dir.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
            return try await client.buildImage(
                contextDirectory: dir, options: BuildOptions(tags: [EngineTestSupport.imageReference]))
        }
        self.task = task
        do {
            return try await task.value
        } catch {
            self.task = nil
            throw error
        }
    }
}
