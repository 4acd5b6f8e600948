import Foundation
import HTTPTypes
import NIOCore
import Synchronization
import Testing
import TestSupport
@testable import FunctionMode
@testable import Gateway

@Suite("http routes to HTTP-server functions: the request as a proxy sends it")
struct HTTPForwardingTests {
    @Test("hop-by-hop fields stay behind; Host is the caller's; X-Forwarded-* say where it came from")
    func request() {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain"
        headers[.connection] = "keep-alive, X-Private"
        headers[.transferEncoding] = "chunked"
        headers[.contentLength] = "5"
        headers[HTTPField.Name("X-Forwarded-For")!] = "10.0.0.1"
        headers.append(HTTPField(name: .cookie, value: "a=1"))
        headers.append(HTTPField(name: .cookie, value: "b=2"))
        let forwarded = HTTPForwarding.request(
            method: "PUT", target: "/items/7?x=1", authority: "api.example:8080", headers: headers,
            body: ByteBuffer(string: "hello"), sourceIP: "192.0.2.9")
        let names = forwarded.headers.map { $0.name.lowercased() }
        #expect(forwarded.method == "PUT" && forwarded.path == "/items/7?x=1" && forwarded.body == Array("hello".utf8))
        #expect(!names.contains("connection") && !names.contains("transfer-encoding") && !names.contains("content-length"))
        #expect(forwarded.headers.filter { $0.name.lowercased() == "cookie" }.map(\.value) == ["a=1", "b=2"])
        func value(_ name: String) -> String? { forwarded.headers.first { $0.name.lowercased() == name }?.value }
        #expect(value("host") == "api.example:8080")
        #expect(value("x-forwarded-host") == "api.example:8080")
        #expect(value("x-forwarded-for") == "10.0.0.1, 192.0.2.9")
        #expect(value("x-forwarded-proto") == "http")
    }

    @Test("the server's answer comes back as it is, less its hop-by-hop fields; failures are API Gateway's")
    func response() {
        let answer = ForwardedResponse(status: 201, headers: [
            ("Content-Type", "application/octet-stream"), ("Connection", "close"), ("Content-Length", "999"),
            ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Custom", "yes"),
        ], body: [0, 1, 2, 255])
        var result = Results.make(.response(ByteBuffer(bytes: answer.body)))
        result.httpResponse = answer
        let mapped = HTTPForwarding.response(result, requestID: "req-1")
        #expect(mapped.status.code == 201)
        #expect(Array(mapped.body.readableBytesView) == [0, 1, 2, 255])
        #expect(mapped.headers[values: .setCookie] == ["a=1", "b=2"])
        #expect(mapped.headers[.connection] == nil && mapped.headers[.contentLength] == nil)
        #expect(mapped.headers[HTTPField.Name("X-Custom")!] == "yes")
        #expect(mapped.headers[HTTPField.Name("apigw-requestid")!] == "req-1")

        let throttled = HTTPForwarding.response(Results.make(.rejected(.reservedConcurrencyExceeded(limit: 1))), requestID: "r")
        #expect(throttled.status == .tooManyRequests)
        let crashed = HTTPForwarding.response(Results.make(.failed(.runtimeExited(exitCode: 1, outOfMemory: false))), requestID: "r")
        #expect(crashed.status == .badGateway)
    }

    @Test("a route's request is answered on the event loop exactly as Hummingbird answers it")
    func routeFastPath() async throws {
        let invoker = ForwardingInvoker()
        let routes = [GatewayRoute(methods: ["POST", "GET"], path: "/web", target: .function("web")),
                      GatewayRoute(methods: nil, path: "/event/{id}", target: .function("events"))]
        try await withLiveGateway(invoker, routes: routes) { _, port in
            let connection = try RawConnection(port: port)
            // The same request, with a length (event loop) and chunked (Hummingbird).
            try connection.send(InvokeFastPathTests.post("hi", path: "/web?q=1"))
            let fast = try await connection.response()
            let chunked = "POST /web?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
            try connection.send(Array(chunked.utf8))
            let slow = try await connection.response()
            #expect(fast.status == 207 && slow.status == 207)
            #expect(fast.body == slow.body)
            #expect(fast.body.contains("POST /web?q=1") && fast.body.contains("body=hi"))
            #expect(fast.header("x-served-by") == "fake" && slow.header("x-served-by") == "fake")
            // A GET with no body is a known length too.
            try connection.send(Array("GET /web HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(try await connection.response().body.contains("GET /web"))
            // A lambda-style function behind a route gets an API Gateway event either way.
            try connection.send(InvokeFastPathTests.post("x", path: "/event/42"))
            let event = try await connection.response()
            #expect(event.status == 200)
            #expect(event.body.contains(#""routeKey":"ANY /event/{id}""#) && event.body.contains(#""id":"42""#))
        }
        #expect(invoker.forwards == 3, "two POSTs and a GET went to the HTTP server")
        #expect(invoker.callbackForwards == 2, "the length-delimited ones on the event loop")
    }
}

/// `web` is an HTTP server answering 207 with what it was sent; `events` gets events (echoed back).
final class ForwardingInvoker: FunctionInvoker {
    private let counts = Mutex((forwards: 0, fromLoop: 0))
    var forwards: Int { counts.withLock { $0.forwards } }
    var callbackForwards: Int { counts.withLock { $0.fromLoop } }

    func functionExists(_ name: String) -> Bool { name == "web" || name == "events" }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult {
        Results.make(.response(payload), function: name)
    }

    func forward(_ name: String, request: () -> ForwardedRequest,
                 completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        guard name == "web" else { return false }
        let request = request()
        let onLoop = Thread.current.name?.hasPrefix("NIO-") ?? false
        counts.withLock {
            $0.forwards += 1
            if onLoop { $0.fromLoop += 1 }
        }
        let text = "\(request.method) \(request.path) body=\(String(decoding: request.body, as: UTF8.self))"
        var result = Results.make(.response(ByteBuffer(string: text)), function: name)
        result.httpResponse = ForwardedResponse(status: 207, headers: [("X-Served-By", "fake"), ("Connection", "close")],
                                                body: Array(text.utf8))
        let answer = result
        Thread.detachNewThread { completion(answer) }
        return true
    }

    func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID { InvocationID("queued") }
}
