import Engine
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether tests that need the container engine run, shared by every test
/// target: they run when the engine accepts connections, and always under
/// `CI=true` — where ``requireEngine()`` then fails them with a message naming
/// the socket, so a missing engine is never a silent skip.
public enum EngineAvailability {
    /// The socket the tests use; a `DOCKER_HOST` tandem cannot use fails ``requireEngine()``.
    public static let socketPath = (try? EngineClient.defaultSocketPath()) ?? EngineClient.standardSocketPath
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Something accepts connections on the engine socket (checked once).
    public static let engineAnswers: Bool = {
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

    /// The condition for `.enabled(if:)`: the engine answers, or this is CI.
    public static var shouldRun: Bool { engineAnswers || isCI }

    /// A client for the engine, or a failed requirement naming the socket.
    public static func requireEngine() async throws -> EngineClient {
        _ = try EngineClient.defaultSocketPath()  // DOCKER_HOST=tcp://… fails here, with its reason
        let client = try EngineClient(socketPath: socketPath)
        var reachable = true
        do { try await client.ping(timeout: .seconds(3)) } catch { reachable = false }
        try #require(reachable, "the container engine is not reachable at \(socketPath) — run docker/start-engine.sh")
        return client
    }
}

/// The repository's root folder (where `images/` is).
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Waits until `condition` holds, or fails the test after `timeout`.
public func eventually(
    timeout: Duration, pollEvery interval: Duration = .milliseconds(50), _ condition: () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: interval)
    }
    let met = await condition()
    try #require(met, "condition not met within \(timeout)")
}
