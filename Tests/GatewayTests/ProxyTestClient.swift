import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client over one TCP connection, for the proxy tests:
/// reads responses framed by `Content-Length`, chunks, or the close, and
/// responses to HEAD. Each call runs on a thread of its own (``onThread(_:)``),
/// never on the cooperative pool the gateway under test needs.
final class ProxyTestClient: @unchecked Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 10) throws {
        fd = try RawConnection.connect(port: port)
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed (errno \(errno))") }
            sent += n
        }
    }

    /// `GET path` (or another method without a body) on this connection, and its response.
    func get(_ path: String, method: String = "GET", headers: [String] = []) throws -> Response {
        try send("\(method) \(path) HTTP/1.1\r\nHost: app.test\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
        return try response(head: method == "HEAD")
    }

    /// Reads more bytes; false at the end of the stream.
    @discardableResult
    func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw Failure(description: "recv failed or timed out (errno \(errno))") }
        buffer += chunk[..<n]
        return n > 0
    }

    /// Reads until `marker` has arrived; the bytes so far stay buffered.
    func waitFor(_ marker: String) throws {
        let bytes = Array(marker.utf8)
        while !contains(bytes) {
            if try !fill() { throw Failure(description: "closed before \(marker)") }
        }
    }

    private func contains(_ bytes: [UInt8]) -> Bool {
        guard buffer.count >= bytes.count else { return false }
        return (0...(buffer.count - bytes.count)).contains { buffer[$0..<($0 + bytes.count)].elementsEqual(bytes) }
    }

    func response(head: Bool = false) throws -> Response {
        let headEnd = try take(until: Array("\r\n\r\n".utf8))
        let lines = String(decoding: headEnd, as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = Response(status: status, headers: headers, body: [])
        if head || status / 100 == 1 || status == 204 || status == 304 { return response }
        var body: [UInt8] = []
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = String(decoding: try take(until: Array("\r\n".utf8)), as: UTF8.self)
                let size = Int(sizeLine.split(separator: ";")[0], radix: 16) ?? 0
                body += try take(count: size + 2).dropLast(2)
                if size == 0 { break }
            }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            body = try take(count: length)
        } else {
            while try fill() {}
            body = buffer
            buffer = []
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Reads at least `count` bytes, or until the connection closes, pausing
    /// a millisecond every `pausingEvery` bytes (a slow client); gives the bytes read.
    func drain(_ count: Int, pausingEvery step: Int) throws -> Int {
        var total = buffer.count
        var sincePause = 0
        buffer = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while total < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            total += n
            sincePause += n
            if sincePause >= step {
                sincePause = 0
                usleep(1000)
            }
        }
        return total
    }

    /// True when the gateway closed the connection (nothing more arrives).
    func isClosed() throws -> Bool { try !fill() && buffer.isEmpty }

    private func take(until marker: [UInt8]) throws -> [UInt8] {
        while true {
            if buffer.count >= marker.count,
               let at = (0...(buffer.count - marker.count)).first(where: { buffer[$0..<($0 + marker.count)].elementsEqual(marker) }) {
                let taken = Array(buffer[..<at])
                buffer.removeFirst(at + marker.count)
                return taken
            }
            if try !fill() { throw Failure(description: "the connection ended inside a response head") }
        }
    }

    private func take(count: Int) throws -> [UInt8] {
        while buffer.count < count {
            if try !fill() { throw Failure(description: "the connection ended inside a body") }
        }
        let taken = Array(buffer[..<count])
        buffer.removeFirst(count)
        return taken
    }
}

