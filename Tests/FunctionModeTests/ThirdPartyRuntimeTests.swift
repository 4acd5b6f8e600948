import Engine
import Foundation
import NIOCore
import Testing
import TestSupport
@testable import FunctionMode

/// A runtime tandem did not write: a busybox shell script that follows AWS's
/// custom-runtime tutorial and knows nothing but the Runtime API.
@Suite("A third-party runtime against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct ThirdPartyRuntimeTests {
    static let image = "tandem/shell-function:latest"

    @Test("the shell runtime answers, reports a handler error, and logs what it prints")
    func shellRuntime() async throws {
        let observer = RecordingObserver()
        try await FunctionTestSupport.withHost(observer: observer) { host in
            try await TestImages.shared.folder("images/shell-function", tag: Self.image, engine: host.engine)
            host.deploy(FunctionDefinition(
                name: "shell", image: Self.image, handler: "function.handler", memoryMiB: 128, timeout: .seconds(10)))

            let ok = await host.invoke("shell", payload: ByteBuffer(string: #"{"n":1}"#), includeLog: true)
            #expect(ok.bodyText == #"{"runtime":"busybox sh","event":{"n":1}}"#)
            #expect(ok.log?.contains(#"shell-function got: {"n":1}"#) == true)

            let failed = await host.invoke("shell", payload: ByteBuffer(string: #"{"fail":true}"#))
            guard case .functionError(let report) = failed.outcome else {
                Issue.record("expected a function error, got \(failed.outcome)")
                return
            }
            #expect(report.errorMessage.contains("asked to fail"))
            #expect(failed.environment == ok.environment)
        }
    }
}
