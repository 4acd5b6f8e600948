import Engine
import Foundation

/// Builds each test image once per test process, whichever suite asks first.
public actor TestImages {
    public static let shared = TestImages()
    /// A busybox image (`sh`, `cat`, `sleep`, `dd`…) built FROM scratch.
    public static let busybox = "tandem-test/busybox:latest"

    private var builds: [String: Task<String, any Error>] = [:]

    /// Builds a folder of `images/` (its prebuild, then the engine build) as `tag`.
    /// - Returns: the image id.
    @discardableResult
    public func folder(_ path: String, tag: String, engine: EngineClient) async throws -> String {
        try await once(tag) {
            try await ImageFolder(path, relativeTo: Repository.root).build(with: engine, tag: tag)
        }
    }

    /// Builds ``busybox`` from Debian's busybox-static.
    /// - Returns: the image id.
    @discardableResult
    public func busybox(engine: EngineClient) async throws -> String {
        try await once(Self.busybox) {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-busybox-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir.appendingPathComponent("busybox").path)
            try """
            FROM scratch
            COPY busybox /bin/busybox
            RUN ["/bin/busybox", "--install", "-s", "/bin"]
            """.write(to: dir.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
            return try await engine.buildImage(contextDirectory: dir, options: BuildOptions(tags: [Self.busybox]))
        }
    }

    private func once(_ key: String, _ build: @escaping @Sendable () async throws -> String) async throws -> String {
        if let existing = builds[key] { return try await existing.value }
        let task = Task { try await build() }
        builds[key] = task
        do {
            return try await task.value
        } catch {
            builds[key] = nil
            throw error
        }
    }
}
