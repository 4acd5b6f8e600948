import Engine
import Foundation
import NIOCore
import Testing
@testable import FunctionMode

/// The `http` contract in function mode: a container serving HTTP, started on
/// demand, sent the request, frozen between requests.
@Suite("http functions against the engine", .enabled(if: FunctionTestSupport.shouldRun), .serialized)
struct HTTPFunctionTests {
    static let image = "tandem/http-echo:latest"

    static func definition(_ name: String, timeout: Duration = .seconds(5)) -> FunctionDefinition {
        var definition = FunctionDefinition(name: name, image: image, memoryMiB: 256, timeout: timeout)
        definition.contract = .http(port: 8080)
        return definition
    }

    static func buildImage(_ host: FunctionHost) async throws {
        let folder = ImageFolder("images/http-echo", relativeTo: FunctionTestSupport.repositoryRoot)
        _ = try await folder.build(with: host.engine, tag: image)
    }

    @Test("a request starts the server, is forwarded, and the answer comes back with status, headers and body")
    func roundTrip() async throws {
        try await FunctionTestSupport.withHost { host in
            try await Self.buildImage(host)
            host.deploy(Self.definition("web"))
            let first = await host.invoke("web", request: ForwardedRequest(
                method: "POST", path: "/orders?x=1", headers: [.init("X-Test", "yes")], body: Array("hello".utf8)))
            let response = try #require(first.httpResponse, "no HTTP answer: \(first.outcome)")
            #expect(response.status == 200)
            #expect(response.headers.contains { $0.name.lowercased() == "x-served-by" && $0.value == "http-echo" })
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(text.contains(#""path":"/orders?x=1""#))
            #expect(text.contains(#""x-test":"yes""#))
            #expect(text.contains(#""body":"hello""#))
            #expect(first.initDuration != nil)

            let teapot = await host.invoke("web", request: ForwardedRequest(method: "GET", path: "/status/418"))
            #expect(teapot.httpResponse?.status == 418)
            #expect(teapot.initDuration == nil)
            #expect(teapot.environment == first.environment)

            let binary = await host.invoke("web", request: ForwardedRequest(method: "GET", path: "/binary"))
            #expect(binary.httpResponse?.body == (0...255).map { UInt8($0) })
        }
    }

    @Test("between requests the server is frozen, and thawed for the next one")
    func frozenBetweenRequests() async throws {
        try await FunctionTestSupport.withHost { host in
            try await Self.buildImage(host)
            host.deploy(Self.definition("web-frozen"))
            let first = await host.invoke("web-frozen", request: ForwardedRequest(method: "GET", path: "/"))
            let env = try #require(first.environment)
            let container = try #require(host.containerID(of: env))
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await host.engine.inspectContainer(container).state.paused)
            let second = await host.invoke("web-frozen", request: ForwardedRequest(method: "GET", path: "/again"))
            #expect(second.httpResponse?.status == 200)
            #expect(second.environment == env)
        }
    }

    @Test("a request that outlives the timeout fails and the server is replaced")
    func timeout() async throws {
        try await FunctionTestSupport.withHost { host in
            try await Self.buildImage(host)
            host.deploy(Self.definition("web-slow", timeout: .seconds(1)))
            let slow = await host.invoke("web-slow", request: ForwardedRequest(method: "GET", path: "/sleep/5000"))
            guard case .failed(.timedOut) = slow.outcome else {
                Issue.record("expected a timeout, got \(slow.outcome)")
                return
            }
            let next = await host.invoke("web-slow", request: ForwardedRequest(method: "GET", path: "/"))
            #expect(next.httpResponse?.status == 200)
            #expect(next.environment != slow.environment)
        }
    }
}
