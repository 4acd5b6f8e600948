import Engine
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Gating and shared fixtures for tests that need a running engine.
///
/// Integration tests carry `.enabled(if: EngineAvailability.shouldRun)`: they run
/// when the engine answers, and also when `CI=true` — then an unreachable engine
/// makes them fail loudly through ``requireEngine()`` instead of being skipped.
enum EngineTestSupport {
    static let imageReference = TestImages.busybox
    static let testLabel = "tandem.test"


    static func requireEngine() async throws -> EngineClient { try await EngineAvailability.requireEngine() }

    /// Builds the busybox test image once per test process; returns its id.
    static func testImage(_ client: EngineClient) async throws -> String {
        try await TestImages.shared.busybox(engine: client)
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
