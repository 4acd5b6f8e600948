import Foundation
import NIOCore
import Synchronization
import TestSupport
import Testing
@testable import FunctionMode
@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// The event-loop path for synchronous Invoke API calls, over real sockets:
/// it must answer exactly as Hummingbird's path does, keep a connection's
/// answers in order when both paths share it, and leave every other request
/// to Hummingbird.
@Suite("Invoke API fast path on a live gateway")
struct InvokeFastPathTests {
    static let invoke = "/2015-03-31/functions/echo/invocations"

    @Test("a RequestResponse call with a length is answered on the event loop, like Hummingbird answers a chunked one")
    func sameAnswerBothPaths() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker) { _, port in
            let connection = try RawConnection(port: port)
            try connection.send(Self.post(#"{"echo":1}"#))
            let fast = try await connection.response()
            try connection.send(Self.chunkedPost(#"{"echo":1}"#))
            let slow = try await connection.response()
            #expect(fast.status == 200 && slow.status == 200)
            #expect(fast.body == #"{"echo":1}"# && slow.body == #"{"echo":1}"#)
            let ignored: Set<String> = ["x-amzn-requestid", "date"]
            #expect(fast.headerNames.subtracting(ignored) == slow.headerNames.subtracting(ignored))
            #expect(fast.header("content-length") == "10")
            #expect(fast.header("x-amz-executed-version") == "$LATEST")
            #expect(fast.header("date") != nil)
        }
        #expect(invoker.callbackCalls == 1, "the length-delimited call took the event-loop path")
        #expect(invoker.asyncCalls == 1, "the chunked call went through Hummingbird")
    }

    @Test("pipelined requests on one connection are answered in order across both paths")
    func pipelinedInOrder() async throws {
        // Answers come back out of order from the invoker: the slowest first.
        let invoker = CallbackCountingInvoker(delay: { payload in payload.contains("slow") ? .milliseconds(150) : .zero })
        try await withLiveGateway(invoker) { _, port in
            let connection = try RawConnection(port: port)
            var bytes = Self.post(#"{"n":"1 slow"}"#)
            bytes += Self.post(#"{"n":"2"}"#, headers: ["X-Amz-Log-Type: Tail"])  // Hummingbird's path
            bytes += Self.post(#"{"n":"3"}"#)
            bytes += Self.post(#"{"n":"4"}"#, headers: ["X-Amz-Invocation-Type: DryRun"])
            bytes += Self.post(#"{"n":"5 slow"}"#)
            try connection.send(bytes)
            var bodies: [String] = []
            for _ in 0..<5 { bodies.append(try await connection.response().body) }
            #expect(bodies == [#"{"n":"1 slow"}"#, #"{"n":"2"}"#, #"{"n":"3"}"#, "", #"{"n":"5 slow"}"#])
        }
    }

    @Test("refusals on the event-loop path are the Invoke API's: unknown function 404, bad JSON 400")
    func refusals() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker) { _, port in
            let connection = try RawConnection(port: port)
            try connection.send(Self.post("{}", path: "/2015-03-31/functions/nope/invocations"))
            let missing = try await connection.response()
            #expect(missing.status == 404)
            #expect(missing.header("x-amzn-errortype") == "ResourceNotFoundException")
            try connection.send(Self.post("{not json"))
            let bad = try await connection.response()
            #expect(bad.status == 400)
            #expect(bad.header("x-amzn-errortype") == "InvalidRequestContentException")
            // The connection is still good for the next call.
            try connection.send(Self.post(#"{"ok":true}"#))
            #expect(try await connection.response().body == #"{"ok":true}"#)
        }
        #expect(invoker.callbackCalls == 1)
    }

    @Test("Connection: close is left to Hummingbird, which answers and closes")
    func connectionClose() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker) { _, port in
            let connection = try RawConnection(port: port)
            try connection.send(Self.post(#"{"a":1}"#, headers: ["Connection: close"]))
            let response = try await connection.response()
            #expect(response.body == #"{"a":1}"#)
            #expect(try await connection.rest().isEmpty, "the gateway closed the connection")
        }
        #expect(invoker.callbackCalls == 0)
        #expect(invoker.asyncCalls == 1)
    }

    @Test("an HTTP/1.0 request without keep-alive is answered, then the connection is closed")
    func http10() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker) { _, port in
            for keepAlive in [false, true] {
                let connection = try RawConnection(port: port)
                let body = #"{"v":1}"#
                var text = "POST \(Self.invoke) HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n"
                if keepAlive { text += "Connection: keep-alive\r\n" }
                try connection.send(Array((text + "\r\n" + body).utf8))
                #expect(try await connection.response().body == body)
                if keepAlive {
                    try connection.send(Self.post(body))
                    #expect(try await connection.response().body == body, "kept alive when asked")
                } else {
                    #expect(try await connection.rest().isEmpty, "closed after the answer")
                }
            }
        }
    }

    @Test("a client that hangs up before its answer costs nothing but the invocation")
    func clientGone() async throws {
        let invoker = CallbackCountingInvoker(delay: { _ in .milliseconds(100) })
        try await withLiveGateway(invoker) { _, port in
            do {
                let connection = try RawConnection(port: port)
                try connection.send(Self.post(#"{"x":1}"#))
            }  // closed at once
            try await Task.sleep(for: .milliseconds(250))
            let next = try RawConnection(port: port)
            try next.send(Self.post(#"{"x":2}"#))
            #expect(try await next.response().body == #"{"x":2}"#)
        }
        #expect(invoker.callbackCalls == 2)
    }

    // MARK: - Requests

    static func post(_ body: String, path: String = invoke, headers: [String] = []) -> [UInt8] {
        var text = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        for header in headers { text += header + "\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return Array(text.utf8)
    }

    static func chunkedPost(_ body: String) -> [UInt8] {
        let text = "POST \(invoke) HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
        return Array(text.utf8)
    }
}

/// Answers with the payload; counts which entry point each call used.
final class CallbackCountingInvoker: FunctionInvoker {
    private let counts = Mutex((callback: 0, async: 0))
    private let delay: @Sendable (String) -> Duration

    init(delay: @escaping @Sendable (String) -> Duration = { _ in .zero }) { self.delay = delay }

    var callbackCalls: Int { counts.withLock { $0.callback } }
    var asyncCalls: Int { counts.withLock { $0.async } }

    func functionExists(_ name: String) -> Bool { name == "echo" }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult {
        counts.withLock { $0.async += 1 }
        let pause = delay(String(buffer: payload))
        if pause > .zero { try? await Task.sleep(for: pause) }
        return Results.make(.response(payload), function: name, log: includeLog ? "START\nEND\n" : nil)
    }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?,
                completion: @escaping @Sendable (InvocationResult) -> Void) {
        counts.withLock { $0.callback += 1 }
        let pause = delay(String(buffer: payload))
        // Answer from another thread, as the function host does.
        Thread.detachNewThread {
            if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
            completion(Results.make(.response(payload), function: name))
        }
    }

    func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID { InvocationID("queued") }
}

/// One blocking TCP connection to 127.0.0.1, reading HTTP/1.1 responses with a
/// Content-Length. Reads block a thread of their own, never one of the
/// cooperative pool that the gateway under test needs. Used by one task at a time.
final class RawConnection: @unchecked Sendable {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: String
        var headerNames: Set<String> { Set(headers.map { $0.0.lowercased() }) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = try Self.connect(port: port)
        // Generous: the whole suite on 2 cores can hold a gateway's answer for seconds.
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A blocking TCP connection to 127.0.0.1:`port`, its descriptor.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
        return fd
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed") }
            sent += n
        }
    }

    /// Reads more bytes; false at the end of the stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw Failure(description: "recv failed or timed out (errno \(errno))") }
        buffer += chunk[..<n]
        return n > 0
    }

    func response() async throws -> Response { try await onThread { try self.readResponse() } }

    func rest() async throws -> [UInt8] { try await onThread { try self.readToEnd() } }

    func readResponse() throws -> Response {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                headEnd = (0...(buffer.count - 4)).first { Array(buffer[$0..<($0 + 4)]) == separator }
            }
            if headEnd == nil, try !fill() { throw Failure(description: "the connection ended before a response") }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        let headers = head.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length {
            if try !fill() { throw Failure(description: "the connection ended inside a body") }
        }
        let body = String(decoding: buffer[bodyStart..<(bodyStart + length)], as: UTF8.self)
        buffer.removeFirst(bodyStart + length)
        return Response(status: status, headers: headers, body: body)
    }

    /// What is left until the peer closes.
    func readToEnd() throws -> [UInt8] {
        while try fill() {}
        defer { buffer = [] }
        return buffer
    }
}
