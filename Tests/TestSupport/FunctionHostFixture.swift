import Engine
import Foundation
import FunctionMode
import NIOPosix
import Testing

/// A function host on the real engine for integration tests.
public enum FunctionHostFixture {
    /// `images/echo-function`, built once per test process.
    public static let echoImage = "tandem/echo-function:latest"

    /// Runs `body` with a host whose containers carry a fresh project label;
    /// afterwards every environment is gone (checked, and removed if not).
    public static func withHost(
        settings: FunctionHostSettings = FunctionHostSettings(globalConcurrency: 16, reapAfter: .seconds(60)),
        observer: (any FunctionHostObserver)? = nil,
        admission: Admission? = nil,
        _ body: (FunctionHost) async throws -> Void
    ) async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.folder("images/echo-function", tag: echoImage, engine: engine)
        let bridge = try await engine.inspectNetwork("bridge")
        let gateway = try #require(BridgeAddress.gateway(of: bridge), "the bridge network has no gateway address")
        var settings = settings
        settings.project = "test-\(UUID().uuidString.prefix(8).lowercased())"
        let host = FunctionHost(
            engine: engine, runtimeHost: gateway, group: MultiThreadedEventLoopGroup.singleton,
            settings: settings, observer: observer, admission: admission)
        let timers = Task { await host.run() }
        var failure: (any Error)?
        do { try await body(host) } catch { failure = error }
        timers.cancel()
        _ = await timers.value
        try await assertNoLeftovers(engine, project: settings.project)
        if let failure { throw failure }
    }

    /// Fails the test if containers of `project` are left, and removes them.
    public static func assertNoLeftovers(_ engine: EngineClient, project: String) async throws {
        let left = try await engine.listContainers(all: true, labels: ["tandem.project=\(project)"])
        for container in left { try? await engine.removeContainer(container.id, force: true) }
        #expect(left.isEmpty, "containers left behind: \(left.map(\.id))")
    }
}
