import Testing
@testable import TandemLambdaRuntime

@Suite("Requests, endpoints and error documents")
struct RequestEncodingTests {
    @Test("a GET has no Content-Length")
    func getRequest() {
        let request = HTTPRequest(method: "GET", path: "/2018-06-01/runtime/invocation/next")
        let text = String(decoding: request.encoded(host: "127.0.0.1:9001"), as: UTF8.self)
        #expect(text == "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: \(HTTPRequest.userAgent)\r\n\r\n")
    }

    @Test("a POST carries its headers, length and body")
    func postRequest() {
        let request = HTTPRequest(
            method: "POST",
            path: "/2018-06-01/runtime/invocation/abc/error",
            headers: HTTPHeaders([("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", "Unhandled")]),
            body: Array("{}".utf8)
        )
        let text = String(decoding: request.encoded(host: "rt:80"), as: UTF8.self)
        #expect(text == "POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\nHost: rt:80\r\nUser-Agent: \(HTTPRequest.userAgent)\r\nContent-Type: application/json\r\nLambda-Runtime-Function-Error-Type: Unhandled\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test("an empty POST says Content-Length: 0")
    func emptyPost() {
        let text = String(decoding: HTTPRequest(method: "POST", path: "/x").encoded(host: "h:1"), as: UTF8.self)
        #expect(text.hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test("AWS_LAMBDA_RUNTIME_API forms", arguments: [
        ("127.0.0.1:9001", "127.0.0.1", "9001", "127.0.0.1:9001"),
        ("localhost:8080", "localhost", "8080", "localhost:8080"),
        ("[::1]:9001", "::1", "9001", "[::1]:9001"),
        ("runtime", "runtime", "80", "runtime:80"),
        (" 172.17.0.1:41000 ", "172.17.0.1", "41000", "172.17.0.1:41000"),
    ])
    func endpoints(text: String, host: String, port: String, hostHeader: String) throws {
        let endpoint = try RuntimeAPIEndpoint(parsing: text)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        #expect(endpoint.description == hostHeader)
    }

    @Test("bad AWS_LAMBDA_RUNTIME_API values are refused", arguments: ["", ":9001", "host:", "host:99999", "host:http", "http://host:1", "[::1"])
    func badEndpoints(text: String) {
        let error = #expect(throws: LambdaRuntimeError.self) { try RuntimeAPIEndpoint(parsing: text) }
        #expect(error?.code == .invalidEndpoint)
    }

    struct Oops: Error, CustomStringConvertible {
        var description: String { "line 1\nsaid \"no\"\t\u{1}" }
    }

    @Test("the error document escapes its strings and names the error's type")
    func errorDocument() {
        let document = ErrorDocument(Oops())
        #expect(document.errorType == "Oops")
        #expect(String(decoding: document.json, as: UTF8.self)
            == #"{"errorMessage":"line 1\nsaid \"no\"\t\u0001","errorType":"Oops","stackTrace":[]}"#)
    }

    @Test("a /next response becomes an invocation with its context")
    func invocationFromResponse() throws {
        let response = HTTPResponse(status: 200, reason: "OK", headers: HTTPHeaders([
            ("lambda-runtime-aws-request-id", "req-1"),
            ("lambda-runtime-deadline-ms", "1700000000000"),
            ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:echo"),
            ("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"),
            ("lambda-runtime-client-context", "{\"client\":{}}"),
            ("lambda-runtime-cognito-identity", "{\"cognitoIdentityId\":\"x\"}"),
        ]), body: [1, 2, 3])
        let invocation = try RuntimeAPIClient.invocation(from: response)
        #expect(invocation.event == [1, 2, 3])
        #expect(invocation.context == LambdaContext(
            requestID: "req-1",
            deadlineMilliseconds: 1_700_000_000_000,
            invokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:echo",
            traceID: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
            clientContext: "{\"client\":{}}",
            cognitoIdentity: "{\"cognitoIdentityId\":\"x\"}"
        ))
        #expect(invocation.context.remainingTime < .zero)
    }

    @Test("a /next response without a request id is refused")
    func invocationWithoutRequestID() {
        let response = HTTPResponse(status: 200, reason: "OK", headers: HTTPHeaders(), body: [])
        #expect(throws: LambdaRuntimeError.self) { try RuntimeAPIClient.invocation(from: response) }
    }

    @Test("remainingTime counts down to the deadline")
    func remainingTime() {
        let context = LambdaContext(requestID: "r", deadlineMilliseconds: LambdaContext.nowMilliseconds() + 3_000)
        #expect(context.remainingTime > .milliseconds(2_000))
        #expect(context.remainingTime <= .milliseconds(3_000))
    }
}

@Suite("/etc/hosts fallback")
struct HostsFileTests {
    static let hosts = """
        127.0.0.1\tlocalhost
        ::1\tlocalhost ip6-localhost ip6-loopback
        # 10.0.0.9 commented
        172.17.0.1 Host.Docker.Internal   gateway # the bridge
        172.17.0.5\t7f3a9c
        """

    @Test("names resolve to the first line that lists them", arguments: [
        ("host.docker.internal", "172.17.0.1"),
        ("gateway", "172.17.0.1"),
        ("ip6-loopback", "::1"),
        ("localhost", "127.0.0.1"),
        ("7f3a9c", "172.17.0.5"),
    ])
    func found(name: String, address: String) {
        #expect(HostsFile.address(of: name, inHostsText: Self.hosts) == address)
    }

    @Test("unknown and commented names do not resolve", arguments: ["commented", "10.0.0.9", "the", "bridge", "nope"])
    func notFound(name: String) {
        #expect(HostsFile.address(of: name, inHostsText: Self.hosts) == nil)
    }
}

/// Compile-time check that both spellings from the documentation resolve
/// without ambiguity (never run: `run` does not return).
enum PublicAPIShapes {
    struct Input: Decodable { var name: String }
    struct Output: Encodable { var greeting: String }

    static func bytes() -> Never {
        LambdaRuntime.run { (event: [UInt8], context: LambdaContext) throws -> [UInt8] in event }
    }
    static func codable() -> Never {
        LambdaRuntime.run { (event: Input, context: LambdaContext) throws -> Output in
            Output(greeting: "hello \(event.name) \(context.requestID)")
        }
    }
    static func withInitializer() -> Never {
        LambdaRuntime.run(initializer: {
            let greeting = "hi"
            return { event, _ in Array(greeting.utf8) + event }
        })
    }
}
