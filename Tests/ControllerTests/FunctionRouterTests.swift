import FunctionMode
import Manifest
import NIOCore
import Placement
import Synchronization
import Testing
@testable import Controller

/// The router sends each invocation to the runner of the workload's kind in
/// the deployment (no engine: fake runners).
@Suite("Function router")
struct FunctionRouterTests {
    final class FakeRunner: InvocationRunner {
        let kind: RunnerKind
        let invoked = Mutex<[String]>([])

        init(_ kind: RunnerKind) { self.kind = kind }

        func deploy(_ workload: DeployedWorkload) async throws {}
        func remove(_ name: String) async {}
        func views() -> [WorkloadView] { [] }
        func drain(within: Swift.Duration) {}
        func shutdown() async {}
        func run() async {}

        func invoke(
            _ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool, requestID: InvocationID?,
            claimReport: Bool
        ) async -> InvocationResult {
            invoked.withLock { $0.append(name) }
            return .rejected(name, .throttled, arrivedAt: .now)
        }

        func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                    completion: @escaping @Sendable (InvocationResult) -> Void) {
            invoked.withLock { $0.append(name) }
            completion(.rejected(name, .throttled, arrivedAt: .now))
        }

        func forward(_ name: String, request: () -> ForwardedRequest,
                     completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
            false
        }
    }

    @Test("lambda and http go to the function host, command to the command runner; a kind with no runner is unknown")
    func routesByKind() async throws {
        let deployment = try DeploymentTests.deployment()
        let host = FakeRunner(.functionHost), commands = FakeRunner(.commandRunner)
        let router = FunctionRouter(deployment: deployment, runners: [.functionHost: host, .commandRunner: commands])
        for name in ["echo", "web", "upper", "api", "nightly", "ghost"] {
            _ = await router.invoke(name, payload: ByteBuffer(), clientContext: nil, includeLog: false)
        }
        #expect(host.invoked.withLock { $0 } == ["echo", "web"])
        #expect(commands.invoked.withLock { $0 } == ["upper"])
        #expect(router.functionExists("upper"))
        #expect(!router.functionExists("api"))
        let unknown = await router.invoke("api", payload: ByteBuffer(), clientContext: nil, includeLog: false)
        guard case .rejected(.unknownFunction) = unknown.outcome else {
            Issue.record("expected unknownFunction, got \(unknown.outcome)")
            return
        }
    }
}
