#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the Runtime API listens: `AWS_LAMBDA_RUNTIME_API`, `host:port`
/// (`[v6]:port` for an IPv6 literal; port 80 when left out).
struct RuntimeAPIEndpoint: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: String

    init(host: String, port: String) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws {
        let value = text.trimmingASCIIWhitespace()
        guard !value.isEmpty, !value.contains("/") else {
            throw LambdaRuntimeError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API is \"\(text)\", expected host:port")
        }
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else {
                throw LambdaRuntimeError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API is \"\(text)\": unclosed [")
            }
            host = String(value[value.index(after: value.startIndex)..<close])
            let rest = value[value.index(after: close)...]
            if rest.isEmpty {
                port = "80"
            } else if rest.hasPrefix(":") {
                port = String(rest.dropFirst())
            } else {
                throw LambdaRuntimeError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API is \"\(text)\", expected [host]:port")
            }
        } else if let colon = value.lastIndex(of: ":") {
            host = String(value[..<colon])
            port = String(value[value.index(after: colon)...])
        } else {
            host = value
            port = "80"
        }
        guard !host.isEmpty, let number = Int(port), (1...65535).contains(number) else {
            throw LambdaRuntimeError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API is \"\(text)\", expected host:port")
        }
    }

    /// The `Host` header value.
    var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// One kept-alive HTTP/1.1 connection over a TCP socket, used by one thread.
///
/// It connects on first use, and reconnects once when a reused connection turns
/// out to be closed or reset before any byte of the response arrived (the
/// server dropped an idle keep-alive connection). It never times out: `/next`
/// long-polls for as long as the function has no work.
final class HTTPConnection {
    let endpoint: RuntimeAPIEndpoint
    private var socket: Int32 = -1
    private var parser = HTTPResponseParser()
    private var receiveBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// How many TCP connections this client has opened (1 when keep-alive held).
    private(set) var connectionsOpened = 0

    init(endpoint: RuntimeAPIEndpoint) {
        self.endpoint = endpoint
    }

    deinit {
        close()
    }

    /// Sends `request` and returns the complete response.
    func execute(_ request: HTTPRequest) throws -> HTTPResponse {
        let bytes = request.encoded(host: endpoint.description)
        var retried = false
        while true {
            let reused = socket >= 0
            if !reused {
                try connect()
            }
            do {
                try send(bytes)
                let response = try receiveResponse()
                if !response.keepAlive {
                    close()
                }
                return response
            } catch let error as LambdaRuntimeError where error.code == .connectionClosed {
                close()
                guard reused, !retried else { throw error }
                retried = true
            } catch {
                close()
                throw error
            }
        }
    }

    func close() {
        if socket >= 0 {
            _ = posixClose(socket)
            socket = -1
        }
        parser = HTTPResponseParser()
    }

    // MARK: - Socket calls

    private func connect() throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = SocketConstants.stream
        var list: UnsafeMutablePointer<addrinfo>?
        var status = getaddrinfo(endpoint.host, endpoint.port, &hints, &list)
        if status != 0, let address = HostsFile.address(of: endpoint.host) {
            // A static glibc binary in a FROM scratch image has no NSS modules,
            // so getaddrinfo cannot read /etc/hosts (where the engine puts
            // --add-host names such as host.docker.internal): read it here.
            hints.ai_flags = AI_NUMERICHOST
            status = getaddrinfo(address, endpoint.port, &hints, &list)
        }
        guard status == 0, let first = list else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw LambdaRuntimeError(.connectionFailed, "cannot resolve \(endpoint.host): \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = LambdaRuntimeError(.connectionFailed, "no address for \(endpoint)")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = posixSocket(info.pointee.ai_family, info.pointee.ai_socktype | SocketConstants.closeOnExec, info.pointee.ai_protocol)
            if fd < 0 {
                lastError = .posix("socket", errno, code: .connectionFailed)
                continue
            }
            var result: Int32
            repeat {
                result = posixConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            } while result < 0 && errno == EINTR
            if result < 0 {
                lastError = .posix("connect to \(endpoint)", errno, code: .connectionFailed)
                _ = posixClose(fd)
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, SocketConstants.tcpLevel, TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            socket = fd
            connectionsOpened += 1
            return
        }
        throw lastError
    }

    private func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = posixSend(socket, raw.baseAddress! + offset, raw.count - offset, SocketConstants.noSignal)
                if sent < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    if code == EPIPE || code == ECONNRESET {
                        throw LambdaRuntimeError.posix("send", code, code: .connectionClosed)
                    }
                    throw LambdaRuntimeError.posix("send", code, code: .io)
                }
                offset += sent
            }
        }
    }

    private func receiveResponse() throws -> HTTPResponse {
        var receivedAny = false
        while true {
            if let response = try parser.nextResponse() {
                return response
            }
            let count = receiveBuffer.withUnsafeMutableBytes { raw in
                posixRecv(socket, raw.baseAddress, raw.count, 0)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == ECONNRESET && !receivedAny {
                    throw LambdaRuntimeError.posix("recv", code, code: .connectionClosed)
                }
                throw LambdaRuntimeError.posix("recv", code, code: code == ECONNRESET ? .truncatedResponse : .io)
            }
            if count == 0 {
                if let response = try parser.finish() {
                    close()
                    return response
                }
                throw LambdaRuntimeError(.connectionClosed, "\(endpoint) closed the connection before responding")
            }
            receivedAny = true
            parser.feed(receiveBuffer[0..<count])
        }
    }
}

extension LambdaRuntimeError {
    /// An error for a failed C call, naming the call and errno.
    static func posix(_ call: String, _ errorNumber: Int32, code: Code = .io) -> LambdaRuntimeError {
        LambdaRuntimeError(code, "\(call) failed: \(String(cString: strerror(errorNumber))) (errno \(errorNumber))")
    }
}

/// Name lookups in `/etc/hosts`, for when getaddrinfo cannot do them.
enum HostsFile {
    static func address(of name: String, path: String = "/etc/hosts") -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = posixClose(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while contents.count < 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        return address(of: name, inHostsText: String(decoding: contents, as: UTF8.self))
    }

    /// The first address whose line names `name` (case-insensitive).
    static func address(of name: String, inHostsText text: String) -> String? {
        let wanted = name.lowercased()
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let content = line.prefix { $0 != "#" }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else { continue }
            if fields.dropFirst().contains(where: { $0.lowercased() == wanted }) {
                return String(fields[0])
            }
        }
        return nil
    }
}

/// Socket constants whose imported types differ between Glibc and Musl.
enum SocketConstants {
    #if canImport(Glibc)
    static let stream = Int32(SOCK_STREAM.rawValue)
    static let closeOnExec = Int32(SOCK_CLOEXEC.rawValue)
    static let noSignal = Int32(MSG_NOSIGNAL)
    static let tcpLevel = Int32(IPPROTO_TCP)
    #else
    static let stream = SOCK_STREAM
    static let closeOnExec = SOCK_CLOEXEC
    static let noSignal = MSG_NOSIGNAL
    static let tcpLevel = IPPROTO_TCP
    #endif
}

// The C functions whose names clash with this file's methods.
@inline(__always) private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) private func posixSocket(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 { socket(domain, type, proto) }
@inline(__always) private func posixConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 { connect(fd, address, length) }
@inline(__always) private func posixSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ length: Int, _ flags: Int32) -> Int { send(fd, buffer, length, flags) }
@inline(__always) private func posixRecv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ length: Int, _ flags: Int32) -> Int { recv(fd, buffer, length, flags) }
