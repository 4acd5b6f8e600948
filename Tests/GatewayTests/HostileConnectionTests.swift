import Foundation
import NIOCore
import TestSupport
import Testing
@testable import FunctionMode
@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// Clients that try to wear the gateway down, each over real sockets against
/// a live gateway with small limits: trickled heads, idle connections, a
/// flood past the connection bound, CONNECT, upgrades, oversized heads.
@Suite("Gateway under hostile connections", .serialized)
struct HostileConnectionTests {
    static func configuration(header: Duration = .seconds(1), idle: Duration = .seconds(30), max: Int = 50) -> GatewayConfiguration {
        GatewayConfiguration(port: 0, limits: ConnectionLimits(headerTimeout: header, idleTimeout: idle, maxConnections: max))
    }

    static let partialHead = Array("POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty".utf8)

    @Test("200 trickling clients: those past the bound are closed at once, the rest after the header timeout; a kept-alive client is answered throughout")
    func trickleFlood() async throws {
        let invoker = CallbackCountingInvoker()
        // An 8 s header timeout: every trickler must be open before the first
        // admitted one times out (a timeout frees a place, and a later trickler
        // would take it instead of being refused); on a loaded 2-core CI machine,
        // opening 200 sockets and counting the refusals took more than 4 s.
        try await withLiveGateway(invoker, configuration: Self.configuration(header: .seconds(8))) { server, port in
            let client = try RawConnection(port: port)
            try client.send(InvokeFastPathTests.post(#"{"n":0}"#))
            #expect(try await client.response().status == 200)

            let opened = ContinuousClock.now
            var tricklers: [ProbeSocket] = []
            for _ in 0..<200 {
                let socket = try ProbeSocket(port: port)
                try? socket.send(Self.partialHead)
                tricklers.append(socket)
            }
            // Past the bound (the client holds one of the 50 places): closed long before any timeout.
            try await eventually(timeout: .milliseconds(7500)) { server.connectionStatistics.refused == 151 }
            // Keep trickling while the kept-alive client keeps being answered.
            for round in 1...5 {
                for socket in tricklers { try? socket.send(Array("p".utf8)) }
                try client.send(InvokeFastPathTests.post(#"{"n":\#(round)}"#))
                let answer = try await client.response()
                #expect(answer.status == 200 && answer.body == #"{"n":\#(round)}"#)
                try await Task.sleep(for: .milliseconds(100))
            }
            // Every trickler ends: the 151 past the bound with nothing, the 49 admitted with a 408
            // after the 8 s header timeout (counted from their opening, however they trickle).
            let endings = try await ProbeSocket.waitAllClosed(tricklers, within: .seconds(25))
            let answered = endings.filter { $0.bytes.starts(with: Array("HTTP/1.1 408".utf8)) }
            let silent = endings.filter { $0.bytes.isEmpty }
            #expect(silent.count == 151, "closed without an answer: refused at once")
            #expect(answered.count == 49, "closed with 408 after the header timeout")
            for ending in answered {
                #expect(ending.at - opened >= .milliseconds(7900), "a 408 came before the header timeout")
                #expect(ending.at - opened < .seconds(22))
            }
            let statistics = server.connectionStatistics
            #expect(statistics.refused == 151)
            #expect(statistics.headerTimeouts == 49)
            // The gateway read on after each 408 (a lingering close); the clients hanging up frees the places.
            tricklers.removeAll()
            try await eventually(timeout: .seconds(10)) { server.connectionStatistics.open == 1 }

            // Still kept alive, and a new client gets its place back.
            try client.send(InvokeFastPathTests.post(#"{"n":"after"}"#))
            #expect(try await client.response().body == #"{"n":"after"}"#)
            let fresh = try RawConnection(port: port)
            try fresh.send(InvokeFastPathTests.post(#"{"n":"fresh"}"#))
            #expect(try await fresh.response().body == #"{"n":"fresh"}"#)
        }
    }

    @Test("a kept-alive connection is closed after the idle timeout; a silent new one after the header timeout, both without an answer")
    func idleAndSilent() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker, configuration: Self.configuration(header: .milliseconds(500), idle: .seconds(1))) { server, port in
            let kept = try ProbeSocket(port: port)
            try kept.send(InvokeFastPathTests.post(#"{"k":1}"#))
            let silent = try ProbeSocket(port: port)
            let start = ContinuousClock.now
            let endings = try await ProbeSocket.waitAllClosed([kept, silent], within: .seconds(10))
            let answer = String(decoding: endings[0].bytes, as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix(#"{"k":1}"#), "only the answer, then the close")
            #expect(endings[0].at - start >= .milliseconds(900), "closed before the idle timeout")
            #expect(endings[1].bytes.isEmpty)
            #expect(endings[1].at - start >= .milliseconds(400))
            #expect(server.connectionStatistics.idleTimeouts == 1)
            #expect(server.connectionStatistics.headerTimeouts == 1)
        }
    }

    @Test("CONNECT is answered 405 with a JSON error and a length, then the connection is closed")
    func connect() async throws {
        try await withLiveGateway(CallbackCountingInvoker(), configuration: Self.configuration()) { _, port in
            let connection = try RawConnection(port: port)
            try connection.send(Array("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".utf8)
                + InvokeFastPathTests.post("{}"))
            let response = try await connection.response()
            #expect(response.status == 405)
            #expect(response.header("content-length") == String(response.body.utf8.count), "\(response.headers)")
            #expect(response.header("x-amzn-errortype") == "MethodNotAllowedException")
            #expect(response.header("connection") == "close")
            let body = try #require(json(response.body))
            #expect(body["Type"] as? String == "User")
            #expect((body["message"] as? String)?.contains("CONNECT") == true)
            #expect(try await connection.rest().isEmpty, "closed after the answer, the pipelined request not left hanging")
        }
    }

    @Test("a request asking to upgrade is answered as a plain one, then the connection is closed (not left hanging)")
    func upgrade() async throws {
        try await withLiveGateway(CallbackCountingInvoker(), configuration: Self.configuration()) { _, port in
            let connection = try RawConnection(port: port)
            try connection.send(Array("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n".utf8)
                + Array("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(try await connection.response().status == 404)
            #expect(try await connection.rest().isEmpty)
        }
    }

    @Test("a 100 KB path and a 200 KB header get a 400 with the JSON error and a length, then the close",
          arguments: ["path", "header"])
    func oversized(part: String) async throws {
        try await withLiveGateway(CallbackCountingInvoker(), configuration: Self.configuration()) { server, port in
            let connection = try RawConnection(port: port)
            let head = part == "path"
                ? "GET /\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n"
                : "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 200_000))\r\n\r\n"
            try? connection.send(Array(head.utf8))  // the gateway may close before it read everything
            let response = try await connection.response()
            #expect(response.status == 400)
            #expect(response.header("content-length") == String(response.body.utf8.count))
            #expect(response.header("x-amzn-errortype") == "BadRequestException")
            #expect(response.header("connection") == "close")
            let body = try #require(json(response.body), "\(response.body)")
            #expect(body["Type"] as? String == "User")
            #expect((body["message"] as? String)?.contains("larger than the gateway accepts") == true)
            #expect(server.connectionStatistics.malformed == 1)
        }
    }
}

/// A client socket that sends what it is told and reports when the gateway
/// closed it and what it had sent before. Blocking reads run on a thread of
/// their own.
final class ProbeSocket: @unchecked Sendable {
    struct Ending: Sendable {
        var bytes: [UInt8]
        var at: ContinuousClock.Instant
    }

    let fd: Int32

    init(port: Int) throws {
        fd = try RawConnection.connect(port: port)
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        guard n == bytes.count else { throw RawConnection.Failure(description: "send failed (errno \(errno))") }
    }

    /// Waits until every socket was closed by the peer (end of stream or reset);
    /// fails if one is still open after `within`.
    static func waitAllClosed(_ sockets: [ProbeSocket], within: Duration) async throws -> [Ending] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingWaitAllClosed(sockets, within: within) })
            }
        }
    }

    private static func blockingWaitAllClosed(_ sockets: [ProbeSocket], within: Duration) throws -> [Ending] {
        let deadline = ContinuousClock.now + within
        var received = [[UInt8]](repeating: [], count: sockets.count)
        var endedAt = [ContinuousClock.Instant?](repeating: nil, count: sockets.count)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while endedAt.contains(where: { $0 == nil }) {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw RawConnection.Failure(description: "\(endedAt.filter { $0 == nil }.count) connections still open after \(within)")
            }
            var polls = sockets.indices.filter { endedAt[$0] == nil }.map { pollfd(fd: sockets[$0].fd, events: Int16(POLLIN), revents: 0) }
            let open = sockets.indices.filter { endedAt[$0] == nil }
            let millis = Int32(min(remaining.components.seconds * 1000 + 1, 200))
            guard poll(&polls, nfds_t(polls.count), millis) >= 0 else { continue }
            let now = ContinuousClock.now
            for (slot, index) in open.enumerated() where polls[slot].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { recv(sockets[index].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 {
                    received[index] += chunk[..<n]
                } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                    endedAt[index] = now
                }
            }
        }
        return sockets.indices.map { Ending(bytes: received[$0], at: endedAt[$0]!) }
    }
}
