import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FunctionMode
@testable import Gateway

/// The whole responder through Hummingbird's router test mode, with a fake invoker.
@Suite("Gateway routing with a fake invoker")
struct GatewayRouterTests {
    static let invoke = "/2015-03-31/functions/echo/invocations"

    func withGateway(
        _ invoker: FakeInvoker = FakeInvoker(), routes: [GatewayRoute] = [],
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let server = try GatewayServer(invoker: invoker, routes: routes)
        try await server.makeApplication().test(.router, body)
    }

    @Test("RequestResponse: 200 with the function's answer, its request id and $LATEST")
    func requestResponse() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker) { client in
            let response = try await client.execute(uri: Self.invoke, method: .post, body: ByteBuffer(string: #"{"echo":1}"#))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"echo":1}"#)
            #expect(response.headers[named: "x-amzn-RequestId"] == Results.requestID.rawValue)
            #expect(response.headers[named: "X-Amz-Executed-Version"] == "$LATEST")
            #expect(response.headers[.contentType] == "application/json")
        }
        #expect(invoker.calls.map(\.payload) == [#"{"echo":1}"#])
        #expect(invoker.calls.first?.includeLog == false)
    }

    @Test("an empty body is invoked with {}; the client context is decoded")
    func emptyBodyAndClientContext() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker) { client in
            let context = Data(#"{"custom":{"a":"b"}}"#.utf8).base64EncodedString()
            let response = try await client.execute(uri: Self.invoke, method: .post,
                                                    headers: [LambdaInvokeAPI.Header.clientContext: context])
            #expect(response.status == .ok)
        }
        #expect(invoker.calls.first?.payload == "{}")
        #expect(invoker.calls.first?.clientContext == #"{"custom":{"a":"b"}}"#)
    }

    @Test("Tail asks for the log and returns it base64")
    func tail() async throws {
        let invoker = FakeInvoker(log: "START RequestId: x\nhello\nEND RequestId: x\n")
        try await withGateway(invoker) { client in
            let response = try await client.execute(uri: Self.invoke, method: .post,
                                                    headers: [LambdaInvokeAPI.Header.logType: "Tail"])
            let header = try #require(response.headers[named: "X-Amz-Log-Result"])
            #expect(Data(base64Encoded: header) == Data("START RequestId: x\nhello\nEND RequestId: x\n".utf8))
        }
        #expect(invoker.calls.first?.includeLog == true)
    }

    @Test("a function error is 200 with X-Amz-Function-Error: Unhandled")
    func functionError() async throws {
        let invoker = FakeInvoker { _, _ in
            .functionError(RuntimeErrorReport(errorType: "Boom", errorMessage: "it broke",
                                              body: Array(#"{"errorMessage":"it broke","errorType":"Boom"}"#.utf8)))
        }
        try await withGateway(invoker) { client in
            let response = try await client.execute(uri: Self.invoke, method: .post)
            #expect(response.status == .ok)
            #expect(response.headers[named: "X-Amz-Function-Error"] == "Unhandled")
            #expect(String(buffer: response.body) == #"{"errorMessage":"it broke","errorType":"Boom"}"#)
        }
    }

    @Test("an unknown function is a 404 ResourceNotFoundException, and it is not invoked")
    func unknownFunction() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker) { client in
            let response = try await client.execute(uri: "/2015-03-31/functions/nope/invocations", method: .post)
            #expect(response.status == .notFound)
            #expect(response.headers[named: "x-amzn-ErrorType"] == "ResourceNotFoundException")
            #expect(response.headers[named: "x-amzn-RequestId"]?.isEmpty == false)
            #expect(String(buffer: response.body)
                == #"{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"}"#)
        }
        #expect(invoker.calls.isEmpty)
    }

    @Test("a throttled invocation is a 429 with Lambda's body")
    func throttled() async throws {
        let invoker = FakeInvoker { _, _ in .rejected(.reservedConcurrencyExceeded(limit: 1)) }
        try await withGateway(invoker) { client in
            let response = try await client.execute(uri: Self.invoke, method: .post)
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[named: "x-amzn-ErrorType"] == "TooManyRequestsException")
            #expect(String(buffer: response.body)
                == #"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#)
        }
    }

    @Test("payload errors: not JSON 400, too large 413 (6 MB sync, 1 MB async), bad type 400")
    func payloadErrors() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker) { client in
            let notJSON = try await client.execute(uri: Self.invoke, method: .post, body: ByteBuffer(string: "hello"))
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.headers[named: "x-amzn-ErrorType"] == "InvalidRequestContentException")

            let big = ByteBuffer(repeating: UInt8(ascii: " "), count: LambdaInvokeAPI.maxSyncPayloadBytes + 1)
            let tooLarge = try await client.execute(uri: Self.invoke, method: .post, body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.headers[named: "x-amzn-ErrorType"] == "RequestTooLargeException")

            var event = ByteBuffer(string: "[")
            event.writeRepeatingByte(UInt8(ascii: " "), count: LambdaInvokeAPI.maxAsyncPayloadBytes)
            event.writeString("]")
            let eventTooLarge = try await client.execute(uri: Self.invoke, method: .post,
                                                         headers: [LambdaInvokeAPI.Header.invocationType: "Event"], body: event)
            #expect(eventTooLarge.status == .contentTooLarge)

            let badType = try await client.execute(uri: Self.invoke, method: .post,
                                                   headers: [LambdaInvokeAPI.Header.invocationType: "Later"])
            #expect(badType.status == .badRequest)
            #expect(badType.headers[named: "x-amzn-ErrorType"] == "InvalidParameterValueException")
        }
        #expect(invoker.calls.isEmpty)
        #expect(invoker.events.isEmpty)
    }

    @Test("Event: 202 at once with the queue's id; DryRun: 204; neither invokes")
    func eventAndDryRun() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker) { client in
            let event = try await client.execute(uri: Self.invoke, method: .post,
                                                 headers: [LambdaInvokeAPI.Header.invocationType: "Event"],
                                                 body: ByteBuffer(string: #"{"n":1}"#))
            #expect(event.status == .accepted)
            #expect(event.body.readableBytes == 0)
            #expect(event.headers[named: "x-amzn-RequestId"] == "event-1")
            let dryRun = try await client.execute(uri: Self.invoke, method: .post,
                                                  headers: [LambdaInvokeAPI.Header.invocationType: "DryRun"])
            #expect(dryRun.status == .noContent)
            let missing = try await client.execute(uri: "/2015-03-31/functions/nope/invocations", method: .post,
                                                   headers: [LambdaInvokeAPI.Header.invocationType: "DryRun"])
            #expect(missing.status == .notFound)
        }
        #expect(invoker.events.map(\.payload) == [#"{"n":1}"#])
        #expect(invoker.calls.isEmpty)
    }

    @Test("an event the queue refuses is a 500 ServiceException")
    func queueDown() async throws {
        let invoker = FakeInvoker()
        invoker.failEnqueue()
        try await withGateway(invoker) { client in
            let response = try await client.execute(uri: Self.invoke, method: .post,
                                                    headers: [LambdaInvokeAPI.Header.invocationType: "Event"])
            #expect(response.status == .internalServerError)
            #expect(response.headers[named: "x-amzn-ErrorType"] == "ServiceException")
        }
    }

    @Test("other Lambda API operations are unknown; unrouted paths are API Gateway's 404")
    func unknownPaths() async throws {
        try await withGateway { client in
            let list = try await client.execute(uri: "/2015-03-31/functions/", method: .get)
            #expect(list.status == .notFound)
            #expect(list.headers[named: "x-amzn-ErrorType"] == "UnknownOperationException")
            let other = try await client.execute(uri: "/hello", method: .get)
            #expect(other.status == .notFound)
            #expect(String(buffer: other.body) == #"{"message":"Not Found"}"#)
            #expect(other.headers[named: "apigw-requestid"]?.isEmpty == false)
        }
    }

    // MARK: http routes

    static let routes = [
        GatewayRoute(methods: ["POST"], path: "/items/{id}", target: .function("echo")),
        GatewayRoute(path: "/proxy/{proxy+}", target: .function("answer")),
        GatewayRoute(path: "/missing", target: .function("gone")),
    ]

    @Test("an http route invokes its function with an HTTP API event and maps the echo back as JSON")
    func routeEcho() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker, routes: Self.routes) { client in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain"
            headers[.cookie] = "session=abc"
            let response = try await client.execute(uri: "/items/42?x=1&x=2", method: .post, headers: headers,
                                                    body: ByteBuffer(string: "hello"))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[named: "apigw-requestid"]?.isEmpty == false)
            let event = try #require(json(response.body))
            #expect(event["version"] as? String == "2.0")
            #expect(event["routeKey"] as? String == "POST /items/{id}")
            #expect(event["rawPath"] as? String == "/items/42")
            #expect(event["rawQueryString"] as? String == "x=1&x=2")
            #expect(event["queryStringParameters"] as? [String: String] == ["x": "1,2"])
            #expect(event["pathParameters"] as? [String: String] == ["id": "42"])
            #expect(event["cookies"] as? [String] == ["session=abc"])
            #expect(event["body"] as? String == "hello")
            #expect(event["isBase64Encoded"] as? Bool == false)
        }
        #expect(invoker.calls.map(\.name) == ["echo"])
    }

    @Test("a statusCode answer through a route: status, headers, cookies, binary body")
    func routeProxyAnswer() async throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF]
        let invoker = FakeInvoker(functions: ["answer"]) { _, _ in
            .response(ByteBuffer(string: """
                {"statusCode":201,"headers":{"content-type":"image/png","x-a":"b"},"cookies":["k=v; HttpOnly"],
                 "isBase64Encoded":true,"body":"\(Data(png).base64EncodedString())"}
                """))
        }
        try await withGateway(invoker, routes: Self.routes) { client in
            let response = try await client.execute(uri: "/proxy/a/b", method: .put, body: ByteBuffer(bytes: png))
            #expect(response.status == .created)
            #expect(response.headers[.contentType] == "image/png")
            #expect(response.headers[named: "x-a"] == "b")
            #expect(response.headers[.setCookie] == "k=v; HttpOnly")
            #expect(Array(response.body.readableBytesView) == png)
        }
        let event = try #require(json(invoker.calls.first?.payload ?? ""))
        #expect(event["isBase64Encoded"] as? Bool == true)
        #expect(event["body"] as? String == Data(png).base64EncodedString())
        #expect(event["pathParameters"] as? [String: String] == ["proxy": "a/b"])
    }

    @Test("route failures: function error 502, throttle 429, missing function 500, unmatched method 404")
    func routeFailures() async throws {
        let invoker = FakeInvoker(functions: ["echo", "answer"]) { name, _ in
            name == "echo" ? .failed(.timedOut(after: .seconds(1))) : .rejected(.throttled)
        }
        try await withGateway(invoker, routes: Self.routes) { client in
            let failed = try await client.execute(uri: "/items/1", method: .post)
            #expect(failed.status == .badGateway)
            #expect(String(buffer: failed.body) == #"{"message":"Internal Server Error"}"#)
            let throttled = try await client.execute(uri: "/proxy/x", method: .get)
            #expect(throttled.status == .tooManyRequests)
            #expect(String(buffer: throttled.body) == #"{"message":"Too Many Requests"}"#)
            let missing = try await client.execute(uri: "/missing", method: .get)
            #expect(missing.status == .internalServerError)
            let wrongMethod = try await client.execute(uri: "/items/1", method: .get)
            #expect(wrongMethod.status == .notFound)
        }
    }

    @Test("a route body over 6 MB is a 413 before the function is called")
    func routeTooLarge() async throws {
        let invoker = FakeInvoker()
        try await withGateway(invoker, routes: Self.routes) { client in
            let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: LambdaInvokeAPI.maxSyncPayloadBytes + 1)
            let response = try await client.execute(uri: "/items/1", method: .post, body: big)
            #expect(response.status == .contentTooLarge)
            // Base64 grows a binary body by a third: the event is what must fit.
            var binary = ByteBuffer(repeating: 0xFF, count: 5_000_000)
            binary.writeInteger(UInt8(0))
            let grown = try await client.execute(uri: "/items/1", method: .post, body: binary)
            #expect(grown.status == .contentTooLarge)
        }
        #expect(invoker.calls.isEmpty)
    }

    @Test("routes can be replaced while serving; bad ones are refused whole")
    func replaceRoutes() async throws {
        let server = try GatewayServer(invoker: FakeInvoker(), routes: [])
        #expect(server.routes.isEmpty)
        try server.setRoutes(Self.routes)
        #expect(server.routes.count == 3)
        #expect(throws: RouteTableError.self) {
            try server.setRoutes([GatewayRoute(path: "/2015-03-31/functions/x", target: .function("f"))])
        }
        #expect(server.routes.count == 3)
        try await server.makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/items/1", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .ok)
        }
    }

    @Test("HOST:PORT addresses")
    func addresses() throws {
        let plain = try GatewayConfiguration(address: "0.0.0.0:9000")
        #expect(plain.host == "0.0.0.0")
        #expect(plain.port == 9000)
        let v6 = try GatewayConfiguration(address: "[::1]:0")
        #expect(v6.host == "::1")
        #expect(v6.port == 0)
        for bad in ["8080", "host:", ":80", "h:70000", "h:x"] {
            #expect(throws: GatewayError.self) { try GatewayConfiguration(address: bad) }
        }
    }
}
