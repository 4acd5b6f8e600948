import Engine
import Foundation
import NIOCore
import Testing
import TestSupport
@testable import FunctionMode

/// The `http` contract in function mode: a container serving HTTP, started on
/// demand, sent the request, frozen between requests.
@Suite("http functions against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct HTTPFunctionTests {
    static let image = "tandem/http-echo:latest"

    static func definition(_ name: String, timeout: Duration = .seconds(5)) -> FunctionDefinition {
        var definition = FunctionDefinition(name: name, image: image, memoryMiB: 256, timeout: timeout)
        definition.contract = .http(port: 8080)
        return definition
    }

    static func buildImage(_ host: FunctionHost) async throws {
        try await TestImages.shared.folder("images/http-echo", tag: image, engine: host.engine)
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

            // Invoked with an event (the Invoke API): the server gets the request
            // the event describes; the result is the event's answer.
            let event = #"{"rawPath":"/from-event","rawQueryString":"q=1","headers":{},"requestContext":{"http":{"method":"GET"}}}"#
            let viaEvent = await host.invoke("web", payload: ByteBuffer(string: event))
            guard case .response(let buffer) = viaEvent.outcome else {
                Issue.record("expected a result, got \(viaEvent.outcome)")
                return
            }
            let result = try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
            #expect(result["statusCode"] as? Int == 200)
            #expect((result["body"] as? String)?.contains(#""path":"/from-event?q=1""#) == true)
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
            try await eventually(timeout: .seconds(10)) {
                host.environmentViews.first { $0.id == env }?.phase == .frozen
            }
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

@Suite("Events as HTTP requests for http functions")
struct HTTPEventBridgeTests {
    @Test("an API Gateway v2 event becomes its request: method, path and query, headers, cookies, base64 body")
    func eventToRequest() {
        let event = #"""
            {"version":"2.0","rawPath":"/items/7","rawQueryString":"a=1&b=2","cookies":["s=1","t=2"],
             "headers":{"x-one":"1","content-type":"application/octet-stream"},
             "requestContext":{"http":{"method":"put","path":"/items/7"}},
             "body":"AAEC/w==","isBase64Encoded":true}
            """#
        let request = HTTPEventBridge.request(fromEvent: Array(event.utf8))
        #expect(request.method == "PUT")
        #expect(request.path == "/items/7?a=1&b=2")
        #expect(request.headers.contains(.init("x-one", "1")))
        #expect(request.headers.contains(.init("cookie", "s=1; t=2")))
        #expect(request.body == [0, 1, 2, 255])
    }

    @Test("a payload that is not an event is POSTed to / as JSON")
    func plainPayload() {
        let request = HTTPEventBridge.request(fromEvent: Array(#"{"hello":1}"#.utf8))
        #expect(request.method == "POST")
        #expect(request.path == "/")
        #expect(request.body == Array(#"{"hello":1}"#.utf8))
    }

    @Test("an answer becomes the event's result; binary bodies are base64, cookies kept apart")
    func responseToResult() throws {
        let text = HTTPEventBridge.eventResult(from: ForwardedResponse(
            status: 201, headers: [("Content-Type", "application/json"), ("Set-Cookie", "a=b")], body: Array("{}".utf8)))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
        #expect(object["statusCode"] as? Int == 201)
        #expect(object["body"] as? String == "{}")
        #expect(object["isBase64Encoded"] as? Bool == false)
        #expect(object["cookies"] as? [String] == ["a=b"])
        let binary = HTTPEventBridge.eventResult(from: ForwardedResponse(
            status: 200, headers: [("Content-Type", "image/png")], body: [0x89, 0x50, 0, 255]))
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(binary)) as? [String: Any])
        #expect(decoded["isBase64Encoded"] as? Bool == true)
        #expect(decoded["body"] as? String == Data([0x89, 0x50, 0, 255]).base64EncodedString())
    }
}
