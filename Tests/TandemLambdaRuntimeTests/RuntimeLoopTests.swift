import Foundation
import Synchronization
import Testing
@testable import TandemLambdaRuntime

/// The whole loop against a fake Runtime API on 127.0.0.1. Serialized: the
/// loop sets `_X_AMZN_TRACE_ID` in the process environment.
@Suite("Runtime loop against a fake Runtime API", .serialized)
struct RuntimeLoopTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom \"happened\"" }
    }

    /// What the handler saw, per invocation.
    final class Seen: Sendable {
        let entries = Mutex<[(context: LambdaContext, event: String, traceVariable: String?)]>([])
    }

    static let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo"
    static let trace1 = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
    static let trace2 = "Root=1-00000000-000000000000000000000002;Sampled=0"

    @Test("three invocations: two responses (one chunked, then a dropped connection) and one handler error")
    func threeInvocations() throws {
        let deadline = LambdaContext.nowMilliseconds() + 60_000
        let nextCount = Mutex(0)
        let server = try FakeRuntimeAPI(stopAfterRequests: 6) { request in
            if request.method == "GET" {
                let n = nextCount.withLock { count -> Int in
                    count += 1
                    return count
                }
                switch n {
                case 1:
                    return FakeRuntimeAPI.event(#"{"n":1}"#, headers: [
                        ("Lambda-Runtime-Aws-Request-Id", "req-1"),
                        ("Lambda-Runtime-Deadline-Ms", "\(deadline)"),
                        ("Lambda-Runtime-Invoked-Function-Arn", Self.arn),
                        ("Lambda-Runtime-Trace-Id", Self.trace1),
                        ("Lambda-Runtime-Client-Context", #"{"client":{"app_title":"t"}}"#),
                        ("Lambda-Runtime-Cognito-Identity", #"{"cognitoIdentityId":"id-1"}"#),
                    ])
                case 2:
                    // lowercase names, as some servers send them, and a chunked body
                    return FakeRuntimeAPI.event("second event", headers: [
                        ("lambda-runtime-aws-request-id", "req-2"),
                        ("lambda-runtime-deadline-ms", "\(deadline)"),
                        ("lambda-runtime-invoked-function-arn", Self.arn),
                        ("lambda-runtime-trace-id", Self.trace2),
                    ], chunked: true)
                default:
                    return FakeRuntimeAPI.event("boom", headers: [
                        ("Lambda-Runtime-Aws-Request-Id", "req-3"),
                        ("Lambda-Runtime-Deadline-Ms", "\(deadline)"),
                        ("Lambda-Runtime-Invoked-Function-Arn", Self.arn),
                    ])
                }
            }
            var reply = FakeRuntimeAPI.accepted()
            // Drop the kept-alive connection after the second result: the
            // runtime's next GET finds it closed and must reconnect once.
            reply.closeAfter = request.path.contains("/req-2/")
            return reply
        }
        server.start()

        let seen = Seen()
        let loop = RuntimeLoopThread(endpoint: server.endpoint, maxInvocations: 3) {
            { event, context in
                let text = String(decoding: event, as: UTF8.self)
                let traceVariable = getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) }
                seen.entries.withLock { $0.append((context, text, traceVariable)) }
                if text == "boom" { throw Boom() }
                return Array("handled: \(text)".utf8)
            }
        }

        let outcome = try #require(loop.wait(seconds: 20), "the runtime loop did not finish")
        let statistics = try outcome.get()
        #expect(server.waitUntilFinished(seconds: 5))
        #expect(statistics == LambdaRuntime.LoopStatistics(invocations: 3, errors: 1, connectionsOpened: 2))
        #expect(server.connectionsAccepted == 2)

        // What the runtime sent.
        let requests = server.requests
        #expect(requests.map { "\($0.method) \($0.path)" } == [
            "GET /2018-06-01/runtime/invocation/next",
            "POST /2018-06-01/runtime/invocation/req-1/response",
            "GET /2018-06-01/runtime/invocation/next",
            "POST /2018-06-01/runtime/invocation/req-2/response",
            "GET /2018-06-01/runtime/invocation/next",
            "POST /2018-06-01/runtime/invocation/req-3/error",
        ])
        guard requests.count == 6 else { return }
        #expect(requests[1].bodyText == #"handled: {"n":1}"#)
        #expect(requests[3].bodyText == "handled: second event")
        #expect(requests[5].bodyText == #"{"errorMessage":"boom \"happened\"","errorType":"Boom","stackTrace":[]}"#)
        #expect(requests[5].headers["lambda-runtime-function-error-type"] == "Unhandled")
        #expect(requests[5].headers["content-type"] == "application/json")
        #expect(requests[1].headers["lambda-runtime-function-error-type"] == nil)
        #expect(requests.allSatisfy { $0.headers["host"] == "127.0.0.1:\(server.port)" })
        #expect(requests[0].headers["content-length"] == nil)
        #expect(requests[1].headers["content-length"] == "\(requests[1].body.count)")

        // What the handler saw.
        let entries = seen.entries.withLock { $0 }
        #expect(entries.map(\.event) == [#"{"n":1}"#, "second event", "boom"])
        #expect(entries.map(\.context.requestID) == ["req-1", "req-2", "req-3"])
        #expect(entries.map(\.traceVariable) == [Self.trace1, Self.trace2, nil])
        let first = try #require(entries.first?.context)
        #expect(first == LambdaContext(
            requestID: "req-1",
            deadlineMilliseconds: deadline,
            invokedFunctionARN: Self.arn,
            traceID: Self.trace1,
            clientContext: #"{"client":{"app_title":"t"}}"#,
            cognitoIdentity: #"{"cognitoIdentityId":"id-1"}"#
        ))
        #expect(first.remainingTime > .seconds(30))
        #expect(entries[1].context.clientContext == nil)
    }

    struct NoConfig: Error {}

    @Test("an initializer that throws is reported to /runtime/init/error and ends the loop")
    func initError() throws {
        let server = try FakeRuntimeAPI(stopAfterRequests: 1) { _ in FakeRuntimeAPI.accepted() }
        server.start()
        let loop = RuntimeLoopThread(endpoint: server.endpoint, maxInvocations: 1) {
            throw NoConfig()
        }
        let outcome = try #require(loop.wait(seconds: 20), "the runtime loop did not finish")
        #expect(server.waitUntilFinished(seconds: 5))
        let error = #expect(throws: LambdaRuntimeError.self) { try outcome.get() }
        #expect(error?.code == .initializationFailed)
        let requests = server.requests
        #expect(requests.map { "\($0.method) \($0.path)" } == ["POST /2018-06-01/runtime/init/error"])
        #expect(requests.first?.bodyText == #"{"errorMessage":"NoConfig()","errorType":"NoConfig","stackTrace":[]}"#)
        #expect(requests.first?.headers["lambda-runtime-function-error-type"] == "Unhandled")
    }

    @Test("a 500 from /next stops the loop; a 413 on a response does not")
    func statuses() throws {
        let nextCount = Mutex(0)
        let server = try FakeRuntimeAPI(stopAfterRequests: 3) { request in
            if request.method == "POST" {
                return FakeRuntimeAPI.Reply(bytes: Array("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big!".utf8))
            }
            if nextCount.withLock({ count -> Int in count += 1; return count }) == 1 {
                return FakeRuntimeAPI.event("x", headers: [("Lambda-Runtime-Aws-Request-Id", "req-1")])
            }
            return FakeRuntimeAPI.Reply(bytes: Array("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".utf8))
        }
        server.start()
        let loop = RuntimeLoopThread(endpoint: server.endpoint, maxInvocations: 5) { { event, _ in event } }
        let outcome = try #require(loop.wait(seconds: 20), "the runtime loop did not finish")
        let error = #expect(throws: LambdaRuntimeError.self) { try outcome.get() }
        #expect(error?.code == .unexpectedStatus)
        #expect(server.requests.map(\.method) == ["GET", "POST", "GET"])
    }

    @Test("nothing listening: connecting fails with a clear error")
    func nothingListening() throws {
        // A port bound but not listening: connecting is refused, and no other
        // test's server can take the port meanwhile (a closed one could be reused).
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(holder >= 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(holder, raw, length) == 0 && getsockname(holder, raw, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let loop = RuntimeLoopThread(endpoint: RuntimeAPIEndpoint(host: "127.0.0.1", port: "\(port)"), maxInvocations: 1) {
            { event, _ in event }
        }
        let outcome = try #require(loop.wait(seconds: 20), "the runtime loop did not finish")
        let error = #expect(throws: LambdaRuntimeError.self) { try outcome.get() }
        #expect(error?.code == .connectionFailed)
    }

    @Test("a host name is resolved with getaddrinfo")
    func hostName() throws {
        let server = try FakeRuntimeAPI(stopAfterRequests: 2) { request in
            request.method == "GET"
                ? FakeRuntimeAPI.event("hi", headers: [("Lambda-Runtime-Aws-Request-Id", "req-1")])
                : FakeRuntimeAPI.accepted()
        }
        server.start()
        let loop = RuntimeLoopThread(endpoint: RuntimeAPIEndpoint(host: "localhost", port: "\(server.port)"), maxInvocations: 1) {
            { event, _ in event }
        }
        let outcome = try #require(loop.wait(seconds: 20), "the runtime loop did not finish")
        #expect(try outcome.get().invocations == 1)
        #expect(server.requests.last?.bodyText == "hi")
    }

    #if canImport(FoundationEssentials)
    struct Input: Codable, Equatable { var name: String }
    struct Output: Codable, Equatable { var greeting: String }

    @Test("the Codable handler decodes the event and encodes the result")
    func codable() throws {
        let handler = LambdaRuntime.codingHandler { (input: Input, _: LambdaContext) in
            Output(greeting: "hello \(input.name)")
        }
        let context = LambdaContext(requestID: "r", deadlineMilliseconds: 0)
        let output = try handler(Array(#"{"name":"tandem"}"#.utf8), context)
        #expect(try JSONDecoder().decode(Output.self, from: Data(output)) == Output(greeting: "hello tandem"))
        #expect(throws: DecodingError.self) { try handler(Array("not json".utf8), context) }
    }
    #endif
}
