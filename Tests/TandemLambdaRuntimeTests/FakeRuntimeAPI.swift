import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
@testable import TandemLambdaRuntime

/// A Runtime API stand-in on 127.0.0.1 (ephemeral port), written with POSIX
/// sockets, that answers each request with whatever `reply` decides and
/// records every request it receives.
final class FakeRuntimeAPI: Sendable {
    struct Request: Sendable, Equatable {
        var method: String
        var path: String
        /// Header names lowercased.
        var headers: [String: String]
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// Raw bytes to send back, and whether to close the connection afterwards
    /// (without saying so, like a server dropping an idle keep-alive connection).
    struct Reply: Sendable {
        var bytes: [UInt8]
        var closeAfter = false
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: UInt16
    private let listener: Int32
    private let reply: @Sendable (Request) -> Reply
    private let stopAfterRequests: Int
    private let state = Mutex<(requests: [Request], connections: Int)>(([], 0))
    private let finished = DispatchSemaphore(value: 0)

    var requests: [Request] { state.withLock { $0.requests } }
    var connectionsAccepted: Int { state.withLock { $0.connections } }

    /// - Parameter stopAfterRequests: the server stops once it has answered this many requests.
    init(stopAfterRequests: Int, reply: @escaping @Sendable (Request) -> Reply) throws {
        self.reply = reply
        self.stopAfterRequests = stopAfterRequests
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw Failure(description: "bind/listen: errno \(errno)")
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    var endpoint: RuntimeAPIEndpoint { RuntimeAPIEndpoint(host: "127.0.0.1", port: "\(port)") }

    func start() {
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.start()
    }

    /// Waits for the server to stop; false on timeout.
    func waitUntilFinished(seconds: Double) -> Bool {
        finished.wait(timeout: .now() + seconds) == .success
    }

    private func serve() {
        defer { close(listener) }
        var answered = 0
        while answered < stopAfterRequests {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            state.withLock { $0.connections += 1 }
            var buffer: [UInt8] = []
            connectionLoop: while answered < stopAfterRequests {
                guard let request = readRequest(connection, &buffer) else { break connectionLoop }
                state.withLock { $0.requests.append(request) }
                let answer = reply(request)
                answered += 1
                writeAll(connection, answer.bytes)
                if answer.closeAfter { break connectionLoop }
            }
            close(connection)
        }
    }

    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Request? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                headEnd = (0...(buffer.count - 4)).first { Array(buffer[$0..<$0 + 4]) == separator }
            }
            if headEnd == nil && !fill() { return nil }
        }
        guard let end = headEnd else { return nil }
        let lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        while buffer.count < end + 4 + length {
            if !fill() { return nil }
        }
        let body = Array(buffer[(end + 4)..<(end + 4 + length)])
        buffer.removeFirst(end + 4 + length)
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }

    private func writeAll(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    // MARK: - Canned replies

    static func accepted() -> Reply {
        Reply(bytes: Array("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n".utf8))
    }

    static func event(_ body: String, headers: [(String, String)], chunked: Bool = false) -> Reply {
        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if chunked {
            let bytes = Array(body.utf8)
            let middle = bytes.count / 2
            head += "Transfer-Encoding: chunked\r\n\r\n"
            var out = Array(head.utf8)
            for part in [bytes[..<middle], bytes[middle...]] where !part.isEmpty {
                out += Array("\(String(part.count, radix: 16))\r\n".utf8) + part + [13, 10]
            }
            return Reply(bytes: out + Array("0\r\n\r\n".utf8))
        }
        head += "Content-Length: \(body.utf8.count)\r\n\r\n"
        return Reply(bytes: Array((head + body).utf8))
    }
}

/// Runs the runtime loop on its own thread, so a hang fails the test instead
/// of blocking it.
final class RuntimeLoopThread: Sendable {
    private let outcome = Mutex<Result<LambdaRuntime.LoopStatistics, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(
        endpoint: RuntimeAPIEndpoint,
        maxInvocations: Int,
        initializer: @escaping @Sendable () throws -> LambdaRuntime.Handler
    ) {
        let thread = Thread { [self] in
            let result = Result {
                try LambdaRuntime.runLoop(endpoint: endpoint, maxInvocations: maxInvocations, initializer: initializer)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.start()
    }

    /// The loop's result, or nil if it has not returned within `seconds`.
    func wait(seconds: Double) -> Result<LambdaRuntime.LoopStatistics, any Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return outcome.withLock { $0 }
    }
}
