import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Gateway

/// A replica that speaks just enough of an upgrade: it reads one request head,
/// answers `101` with its first bytes in the same write (as servers may), then
/// echoes every byte until the client hangs up; or refuses the upgrade.
final class UpgradeReplica: Sendable {
    let port: Int
    private let listener: Int32
    private let seen = Mutex<(request: String, closed: Bool)>(("", false))

    init(accept: Bool) throws {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(server, $0, length) == 0 && getsockname(server, $0, &length) == 0
            }
        }
        guard bound, listen(server, 4) == 0 else {
            close(server)
            throw ProxyTestClient.Failure(description: "cannot listen")
        }
        listener = server
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            let fd = Glibc.accept(server, nil, nil)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var request: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                request += chunk[..<n]
            }
            seen.withLock { $0.request = String(decoding: request, as: UTF8.self) }
            let answer = accept
                ? "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nhello\n"
                : "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 2\r\n\r\nno"
            _ = Array(answer.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard accept else { return }
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                _ = chunk[..<n].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            seen.withLock { $0.closed = true }
        }
    }

    deinit { close(listener) }

    var request: String { seen.withLock { $0.request } }
    var sawClose: Bool { seen.withLock { $0.closed } }
}

@Suite("WebSocket upgrades through a service route")
struct WebSocketProxyTests {
    static func withReplica(_ replica: UpgradeReplica, _ body: (UpstreamRegistry, Int) async throws -> Void) async throws {
        let registry = UpstreamRegistry()
        registry.update("web", UpstreamSet(endpoints: [UpstreamEndpoint(id: "ws", host: "127.0.0.1", port: replica.port, group: "r1")]))
        try await withLiveGateway(FakeInvoker(), routes: ServiceProxyTests.routes, upstreams: registry) { _, port in
            try await body(registry, port)
        }
    }

    static let upgrade = "GET /app/socket HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    @Test("a 101 turns the connection into a tunnel: bytes both ways, the replica's first bytes included; in flight until closed")
    func tunnel() async throws {
        let replica = try UpgradeReplica(accept: true)
        try await Self.withReplica(replica) { registry, port in
            try await Self.converse(port: port, replica: replica, registry: registry)
            // The client hung up: the replica's side closes and the request is no longer in flight.
            try await eventually(timeout: .seconds(10)) { replica.sawClose && registry.inFlight(service: "web") == 0 }
        }
    }

    /// Upgrades, checks the `101` and the greeting, echoes three lines, and hangs up.
    static func converse(port: Int, replica: UpgradeReplica, registry: UpstreamRegistry) async throws {
        let client = try ProxyTestClient(port: port, timeout: 20)
        let head = try await onThread { () -> String in
            try client.send(Self.upgrade)
            try client.waitFor("hello\n")
            let head = try client.response(head: true)
            return "\(head.status) \(head.header("upgrade") ?? "-") \(head.header("sec-websocket-accept") ?? "-")"
        }
        #expect(head == "101 websocket s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(replica.request.lowercased().contains("upgrade: websocket"))
        #expect(replica.request.lowercased().contains("connection: upgrade"))
        #expect(replica.request.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(registry.inFlight(service: "web") == 1, "an open tunnel counts as in flight")
        try await onThread {
            for n in 0..<3 {
                try client.send("ping \(n)\n")
                try client.waitFor("ping \(n)\n")
            }
        }
    }

    @Test("a replica that refuses the upgrade is answered as it said, then the connection closes")
    func refused() async throws {
        let replica = try UpgradeReplica(accept: false)
        try await Self.withReplica(replica) { registry, port in
            let response = try await onThread { () -> (Int, String, Bool) in
                let client = try ProxyTestClient(port: port, timeout: 20)
                try client.send(Self.upgrade)
                let response = try client.response()
                return (response.status, response.text, try client.isClosed())
            }
            #expect(response.0 == 426 && response.1 == "no")
            #expect(response.2, "closed after the answer")
            try await eventually(timeout: .seconds(5)) { registry.inFlight(service: "web") == 0 }
        }
    }
}
