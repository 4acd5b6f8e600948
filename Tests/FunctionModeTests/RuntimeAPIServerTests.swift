import Engine
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import FunctionMode

/// The Runtime API server on its own, with a scripted delegate: paths, headers,
/// status codes and limits as AWS's contract has them. No engine needed.
@Suite("Runtime API server")
struct RuntimeAPIServerTests {
    final class ScriptedDelegate: RuntimeAPIDelegate {
        struct Seen: Sendable {
            var waiters: [NextWaiter] = []
            var responses: [(String, [UInt8])] = []
            var errors: [RuntimeErrorReport] = []
            var initErrors: [RuntimeErrorReport] = []
            var tooLarge: [Int] = []
        }

        let seen = Mutex(Seen())
        let verdict: RuntimeCallVerdict

        init(verdict: RuntimeCallVerdict = .accepted) { self.verdict = verdict }

        func runtimeRequestedNext(_ env: EnvironmentID, waiter: NextWaiter) { seen.withLock { $0.waiters.append(waiter) } }
        func runtimeAbandonedNext(_ env: EnvironmentID, waiter: NextWaiter) {}
        func runtimeResponded(_ env: EnvironmentID, requestID: String, body: ByteBuffer) -> RuntimeCallVerdict {
            seen.withLock { $0.responses.append((requestID, Array(body.readableBytesView))) }
            return verdict
        }
        func runtimeReportedError(_ env: EnvironmentID, requestID: String, error: RuntimeErrorReport) -> RuntimeCallVerdict {
            seen.withLock { $0.errors.append(error) }
            return verdict
        }
        func runtimeReportedInitError(_ env: EnvironmentID, error: RuntimeErrorReport) -> RuntimeCallVerdict {
            seen.withLock { $0.initErrors.append(error) }
            return .accepted
        }
        func runtimeSentTooMuch(_ env: EnvironmentID, requestID: String, bytes: Int) {
            seen.withLock { $0.tooLarge.append(bytes) }
        }
    }

    static func withServer(
        _ delegate: ScriptedDelegate, gate: PeerGate = PeerGate(admitting: "127.0.0.1"),
        _ body: (CurlHTTPClient) async throws -> Void
    ) async throws {
        let server = RuntimeAPIServer(group: MultiThreadedEventLoopGroup.singleton, host: "127.0.0.1", delegate: delegate)
        let endpoint = try await server.openEndpoint(for: EnvironmentID("env-test"), gate: gate)
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://\(endpoint.address)"))
        do {
            try await body(client)
        } catch {
            await endpoint.close()
            throw error
        }
        await endpoint.close()
    }

    @Test("a connection from an address other than the environment's is closed unread: no /next reaches the host")
    func foreignPeerRefused() async throws {
        let delegate = ScriptedDelegate()
        try await Self.withServer(delegate, gate: PeerGate(admitting: "10.99.0.7")) { client in
            await #expect(throws: (any Error).self) {
                try await client.execute(HTTPRequest(path: "/2018-06-01/runtime/invocation/next", timeout: .seconds(5)))
            }
            await #expect(throws: (any Error).self) {
                try await client.execute(HTTPRequest(
                    method: "POST", path: "/2018-06-01/runtime/invocation/req-1/response", body: .bytes(Array("stolen".utf8)),
                    timeout: .seconds(5)))
            }
        }
        #expect(delegate.seen.withLock { $0.waiters.isEmpty && $0.responses.isEmpty })
    }

    @Test("a connection made before the environment's address is known waits, then is let in or refused")
    func pendingGate() async throws {
        let admitted = ScriptedDelegate()
        let gate = PeerGate()
        try await Self.withServer(admitted, gate: gate) { client in
            async let answer = client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/invocation/req-1/response", body: .bytes(Array("ok".utf8)),
                timeout: .seconds(10)))
            try await Task.sleep(for: .milliseconds(200))
            #expect(admitted.seen.withLock { $0.responses.isEmpty }, "read before the gate decided")
            gate.admit("127.0.0.1")
            #expect(try await answer.status == 202)
        }
        #expect(admitted.seen.withLock { $0.responses.map(\.0) } == ["req-1"])

        let refused = ScriptedDelegate()
        let closing = PeerGate()
        try await Self.withServer(refused, gate: closing) { client in
            let answer = Task { try await client.execute(HTTPRequest(path: "/2018-06-01/runtime/invocation/next", timeout: .seconds(10))) }
            try await Task.sleep(for: .milliseconds(100))
            closing.admit("172.30.0.9")
            await #expect(throws: (any Error).self) { try await answer.value }
        }
        #expect(refused.seen.withLock { $0.waiters.isEmpty })
    }

    @Test("/next is held until an event is delivered, then carries Lambda's headers and the payload")
    func next() async throws {
        let delegate = ScriptedDelegate()
        try await Self.withServer(delegate) { client in
            async let answer = client.execute(HTTPRequest(path: "/2018-06-01/runtime/invocation/next", timeout: .seconds(10)))
            var waiter: NextWaiter?
            for _ in 0..<200 where waiter == nil {
                waiter = delegate.seen.withLock { $0.waiters.first }
                if waiter == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let parked = try #require(waiter)
            #expect(parked.isWaiting)
            #expect(parked.deliver(NextEvent(
                requestID: "req-1", deadlineEpochMilliseconds: 1_700_000_000_000,
                functionArn: "arn:aws:lambda:us-east-1:000000000000:function:f", traceID: "Root=1-abc",
                clientContext: #"{"c":1}"#, cognitoIdentity: nil, payload: ByteBuffer(string: #"{"x":1}"#))))
            #expect(!parked.deliver(NextEvent(
                requestID: "again", deadlineEpochMilliseconds: 0, functionArn: "", traceID: "", payload: ByteBuffer())))
            let response = try await answer
            #expect(response.status == 200)
            #expect(response.header("Lambda-Runtime-Aws-Request-Id") == "req-1")
            #expect(response.header("Lambda-Runtime-Deadline-Ms") == "1700000000000")
            #expect(response.header("Lambda-Runtime-Invoked-Function-Arn") == "arn:aws:lambda:us-east-1:000000000000:function:f")
            #expect(response.header("Lambda-Runtime-Trace-Id") == "Root=1-abc")
            #expect(response.header("Lambda-Runtime-Client-Context") == #"{"c":1}"#)
            #expect(response.header("Lambda-Runtime-Cognito-Identity") == nil)
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"x":1}"#)
        }
    }

    @Test("a response is accepted with 202, and the body reaches function mode as sent")
    func response() async throws {
        let delegate = ScriptedDelegate()
        try await Self.withServer(delegate) { client in
            let response = try await client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/invocation/req-9/response", body: .bytes([0, 1, 2, 255])))
            #expect(response.status == 202)
            let seen = delegate.seen.withLock { $0.responses }
            #expect(seen.first?.0 == "req-9")
            #expect(seen.first?.1 == [0, 1, 2, 255])
        }
    }

    @Test("another environment's request id is 403, an unknown one 400, both with Lambda's error document",
          arguments: [(RuntimeCallVerdict.forbidden, 403, "AccessDeniedException"), (.unknownRequest, 400, "InvalidRequestID")])
    func refused(verdict: RuntimeCallVerdict, status: Int, errorType: String) async throws {
        try await Self.withServer(ScriptedDelegate(verdict: verdict)) { client in
            for path in ["/2018-06-01/runtime/invocation/x/response", "/2018-06-01/runtime/invocation/x/error"] {
                let response = try await client.execute(HTTPRequest(method: "POST", path: path, body: .bytes(Array("{}".utf8))))
                #expect(response.status == status)
                let document = try #require(ErrorDocument.parse(response.body))
                #expect(document.errorType == errorType)
            }
        }
    }

    @Test("an error report takes its type from the body, else from Lambda-Runtime-Function-Error-Type")
    func errorReports() async throws {
        let delegate = ScriptedDelegate()
        try await Self.withServer(delegate) { client in
            _ = try await client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/invocation/r/error",
                body: .bytes(Array(#"{"errorMessage":"boom","errorType":"Handler.Boom","stackTrace":[]}"#.utf8))))
            _ = try await client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/invocation/r/error",
                headers: [HTTPHeader("Lambda-Runtime-Function-Error-Type", "Runtime.Custom")], body: .bytes(Array("plain text".utf8))))
            let initError = try await client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/init/error",
                body: .bytes(Array(#"{"errorMessage":"no config","errorType":"Init.Missing"}"#.utf8))))
            #expect(initError.status == 202)
            let seen = delegate.seen.withLock { $0 }
            #expect(seen.errors.map(\.errorType) == ["Handler.Boom", "Runtime.Custom"])
            #expect(seen.errors.map(\.errorMessage) == ["boom", "plain text"])
            #expect(seen.initErrors.first?.errorType == "Init.Missing")
        }
    }

    @Test("a response over 6 MB is refused with 413 and function mode hears of it")
    func tooLarge() async throws {
        let delegate = ScriptedDelegate()
        try await Self.withServer(delegate) { client in
            let body = [UInt8](repeating: UInt8(ascii: "a"), count: RuntimeAPI.maxPayloadBytes + 1)
            let response = try await client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/invocation/big/response", body: .bytes(body)))
            #expect(response.status == 413)
            #expect(delegate.seen.withLock { $0.tooLarge } == [RuntimeAPI.maxPayloadBytes + 1])
            #expect(delegate.seen.withLock { $0.responses.isEmpty })
            // Exactly at the limit is fine.
            let atLimit = try await client.execute(HTTPRequest(
                method: "POST", path: "/2018-06-01/runtime/invocation/ok/response",
                body: .bytes([UInt8](repeating: 1, count: RuntimeAPI.maxPayloadBytes))))
            #expect(atLimit.status == 202)
        }
    }

    @Test("unknown paths are 404 and other methods 405")
    func unknownPaths() async throws {
        try await Self.withServer(ScriptedDelegate()) { client in
            for path in ["/", "/2018-06-01/runtime/invocation/next/more", "/2015-03-31/functions/f/invocations"] {
                let status = try await client.execute(HTTPRequest(path: path)).status
                #expect(status == 404, "\(path)")
            }
            let delete = try await client.execute(HTTPRequest(method: "DELETE", path: "/2018-06-01/runtime/invocation/next"))
            #expect(delete.status == 405)
        }
    }
}
