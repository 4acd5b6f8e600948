import CCurl
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What an attach connects to.
public struct AttachOptions: Sendable, Equatable {
    /// Send input to the container's stdin (needs `OpenStdin: true` on create;
    /// with `StdinOnce: true` the engine closes the container's stdin when this
    /// connection's input ends).
    public var stdin = true
    public var stdout = true
    public var stderr = true
    /// Whether the container has a TTY: then output is raw (one stream), not
    /// 8-byte framed.
    public var tty = false

    public init(stdin: Bool = true, stdout: Bool = true, stderr: Bool = true, tty: Bool = false) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.tty = tty
    }
}

/// A container's output and exit code from ``EngineClient/runAttached(_:input:tty:)``.
public struct AttachedRunResult: Sendable, Equatable {
    public var output: ContainerOutput
    public var exitCode: Int
    /// Bytes of input the engine accepted before the container went away.
    public var inputBytesWritten: Int
}

/// A live attach connection to one container: input goes in with ``write(_:)``
/// and ``closeStdin()``; stdout and stderr come out of ``output`` until the
/// container's streams end (the engine closes the connection when the
/// container stops).
///
/// The connection is a libcurl `CURLOPT_CONNECT_ONLY` connection to the engine
/// socket, driven with `curl_easy_send`/`curl_easy_recv` and `poll(2)` on its
/// own thread (never on Swift's cooperative pool): the Docker attach protocol
/// hijacks the HTTP connection after the response head (`101 UPGRADED`, or
/// `200` with a raw stream), which curl's normal HTTP handling cannot pass on.
/// Closing stdin half-closes the socket (`shutdown(SHUT_WR)`), which curl has
/// no call for: the socket comes from `CURLINFO_ACTIVESOCKET`.
///
/// The thread lasts until the engine closes the connection or ``cancel()`` is
/// called; a consumer that stops iterating ``output`` also ends it.
public final class AttachedContainer: Sendable {
    public let containerID: String
    /// stdout and stderr chunks (TTY containers: everything as stdout), in the
    /// order the engine sent them. Ends when the container's streams close.
    public let output: TransferStream<LogChunk>
    let connection: AttachConnection

    init(containerID: String, connection: AttachConnection, output: TransferStream<LogChunk>) {
        self.containerID = containerID
        self.connection = connection
        self.output = output
    }

    /// Queues bytes for the container's stdin (sent as the socket accepts them).
    /// Ignored after ``closeStdin()`` or once the engine stopped reading.
    public func write(_ bytes: [UInt8]) { connection.write(bytes) }

    /// Ends the input once everything queued is sent: half-closes the
    /// connection, so the container's stdin sees end-of-file (with `StdinOnce`).
    public func closeStdin() { connection.closeStdin() }

    /// Drops the connection at once; ``output`` ends with `CancellationError`.
    public func cancel() { connection.abort() }

    /// Bytes of input the engine has accepted so far.
    public var inputBytesWritten: Int { connection.written.load(ordering: .relaxed) }

    /// Reads ``output`` to its end.
    public func collect() async throws -> ContainerOutput {
        try await EngineClient.collect(output)
    }
}

extension EngineClient {
    /// Attaches to a container's stdin, stdout and stderr, and returns once the
    /// engine has answered (the connection is hijacked). Attach **before**
    /// starting the container so no output is missed.
    ///
    /// Maps to `POST /containers/{id}/attach?stream=1&stdin=1&stdout=1&stderr=1`
    /// with `Connection: Upgrade`, `Upgrade: tcp`.
    public func attach(_ id: String, options: AttachOptions = AttachOptions()) async throws -> AttachedContainer {
        let operation = "POST /containers/{id}/attach"
        var query = Query()
        query.add("stream", true)
        query.add("stdin", options.stdin)
        query.add("stdout", options.stdout)
        query.add("stderr", options.stderr)
        let path = try await "/v\(apiVersion())/containers/\(Self.segment(id))/attach" + query.encoded
        let target: AttachConnection.Target
        switch http.endpoint {
        case .unixSocket(let socketPath):
            target = AttachConnection.Target(url: "http://localhost/", socketPath: socketPath, host: "localhost")
        case .tcp(let baseURL):
            var url = baseURL
            while url.hasSuffix("/") { url.removeLast() }
            let host = url.split(separator: "/").dropFirst().first.map(String.init) ?? "localhost"
            target = AttachConnection.Target(url: url + "/", socketPath: nil, host: host)
        }
        let request = "POST \(path) HTTP/1.1\r\nHost: \(target.host)\r\nUser-Agent: tandem\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        let (stream, continuation) = AsyncThrowingStream<LogChunk, any Error>.makeStream()
        let connection = try AttachConnection(
            target: target, request: Array(request.utf8), tty: options.tty, operation: operation,
            chunks: continuation, mapError: { [self] error in self.mapTransportError(error, operation: operation) })
        continuation.onTermination = { _ in connection.abort() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (head: CheckedContinuation<Void, any Error>) in
                connection.start(head: head)
            }
        } onCancel: {
            connection.abort()
        }
        return AttachedContainer(
            containerID: id, connection: connection,
            output: TransferStream(stream, stop: { connection.abort() }))
    }

    /// Runs a created (not yet started) container with `input` on its stdin:
    /// attaches, queues the input and the end of input, starts the container,
    /// collects stdout and stderr until the container's streams close, then
    /// reads the exit code. The container needs `OpenStdin`, `StdinOnce` and
    /// `AttachStdin/Stdout/Stderr` set on create. The container is not removed.
    public func runAttached(_ id: String, input: [UInt8], tty: Bool = false) async throws -> AttachedRunResult {
        let attached = try await attach(id, options: AttachOptions(tty: tty))
        do {
            attached.write(input)
            attached.closeStdin()
            try await startContainer(id)
            let output = try await attached.collect()
            // The streams close as the process exits: `not-running` answers once
            // the engine has recorded the exit.
            let exit = try await waitContainer(id, condition: .notRunning)
            return AttachedRunResult(output: output, exitCode: exit.statusCode, inputBytesWritten: attached.inputBytesWritten)
        } catch {
            attached.cancel()
            throw error
        }
    }
}

/// `write(2)`, which the connection's own `write(_:)` would hide.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

/// One hijacked attach connection and the thread that drives it.
final class AttachConnection: @unchecked Sendable {
    struct Target: Sendable {
        var url: String
        var socketPath: String?
        var host: String
    }

    private struct Shared {
        var pending: [UInt8] = []
        var closeRequested = false
        var aborted = false
        var head: CheckedContinuation<Void, any Error>?
        var headSettled = false
    }

    private let shared = Mutex(Shared())
    private let target: Target
    private let request: [UInt8]
    private let tty: Bool
    private let operation: String
    private let chunks: AsyncThrowingStream<LogChunk, any Error>.Continuation
    private let mapError: @Sendable (any Error) -> any Error
    private let wakeRead: Int32
    private let wakeWrite: Int32
    let written = Atomic<Int>(0)

    /// Largest response head accepted before the stream (the engine's is ~100 bytes).
    private static let maxHeadBytes = 64 << 10

    init(
        target: Target, request: [UInt8], tty: Bool, operation: String,
        chunks: AsyncThrowingStream<LogChunk, any Error>.Continuation,
        mapError: @escaping @Sendable (any Error) -> any Error
    ) throws {
        if let error = CurlGlobal.initialised { throw error }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw CurlError(call: "pipe (attach wake-up)", code: -1, detail: String(cString: strerror(errno)))
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        self.wakeRead = fds[0]
        self.wakeWrite = fds[1]
        self.target = target
        self.request = request
        self.tty = tty
        self.operation = operation
        self.chunks = chunks
        self.mapError = mapError
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    func start(head: CheckedContinuation<Void, any Error>) {
        let alreadyAborted = shared.withLock { shared -> Bool in
            if shared.aborted { return true }
            shared.head = head
            return false
        }
        if alreadyAborted {
            head.resume(throwing: mapError(CancellationError()))
            chunks.finish(throwing: CancellationError())
            return
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "tandem-attach"
        thread.start()
    }

    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let queued = shared.withLock { shared -> Bool in
            guard !shared.closeRequested, !shared.aborted else { return false }
            shared.pending += bytes
            return true
        }
        if queued { wake() }
    }

    func closeStdin() {
        shared.withLock { $0.closeRequested = true }
        wake()
    }

    func abort() {
        shared.withLock { $0.aborted = true }
        wake()
    }

    private func wake() {
        var one: UInt8 = 1
        _ = systemWrite(wakeWrite, &one, 1)
    }

    private func drainWake() {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &sink, sink.count) > 0 {}
    }

    private func settleHead(_ result: Result<Void, any Error>) {
        let head = shared.withLock { shared -> CheckedContinuation<Void, any Error>? in
            guard !shared.headSettled else { return nil }
            shared.headSettled = true
            defer { shared.head = nil }
            return shared.head
        }
        head?.resume(with: result)
    }

    private var isAborted: Bool { shared.withLock { $0.aborted } }

    // MARK: - The connection's thread

    private func run() {
        guard let handle = curl_easy_init() else {
            fail(CurlError(call: "curl_easy_init (attach)", code: -1, detail: "returned NULL"))
            return
        }
        defer { curl_easy_cleanup(handle) }
        do {
            let socket = try connect(handle)
            try sendRequest(handle, socket)
            let rest = try readHead(handle, socket)
            settleHead(.success(()))
            try pump(handle, socket, initial: rest)
            chunks.finish()
        } catch {
            fail(error)
        }
    }

    private func fail(_ error: any Error) {
        let mapped = error is EngineError ? error : mapError(error)
        settleHead(.failure(mapped))
        chunks.finish(throwing: mapped)
    }

    private func connect(_ h: UnsafeMutableRawPointer) throws -> curl_socket_t {
        try curlCheck(tandem_easy_setopt_string(h, CURLOPT_URL, target.url), "curl_easy_setopt(CURLOPT_URL)")
        if let path = target.socketPath {
            try curlCheck(tandem_easy_setopt_string(h, CURLOPT_UNIX_SOCKET_PATH, path), "curl_easy_setopt(CURLOPT_UNIX_SOCKET_PATH)")
        }
        try curlCheck(tandem_easy_setopt_long(h, CURLOPT_CONNECT_ONLY, 1), "curl_easy_setopt(CURLOPT_CONNECT_ONLY)")
        try curlCheck(tandem_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1), "curl_easy_setopt(CURLOPT_NOSIGNAL)")
        try curlCheck(tandem_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, 5000), "curl_easy_setopt(CURLOPT_CONNECTTIMEOUT_MS)")
        try curlCheck(curl_easy_perform(h), "connect \(operation)")
        var socket: curl_socket_t = -1
        try curlCheck(tandem_easy_getinfo_socket(h, CURLINFO_ACTIVESOCKET, &socket), "curl_easy_getinfo(CURLINFO_ACTIVESOCKET)")
        guard socket >= 0 else {
            throw CurlError(call: "curl_easy_getinfo(CURLINFO_ACTIVESOCKET)", code: -1, detail: "no socket")
        }
        return socket
    }

    /// Waits until the socket is ready for `events`, or something rang the wake-up pipe.
    private func waitFor(_ socket: curl_socket_t, events: Int16, timeoutMilliseconds: Int32 = -1) {
        var fds = [
            pollfd(fd: socket, events: events, revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&fds, 2, timeoutMilliseconds)
        if fds[1].revents != 0 { drainWake() }
    }

    private func sendRequest(_ h: UnsafeMutableRawPointer, _ socket: curl_socket_t) throws {
        var offset = 0
        while offset < request.count {
            if isAborted { throw CancellationError() }
            var sent = 0
            let code = request.withUnsafeBytes { raw in
                curl_easy_send(h, raw.baseAddress! + offset, raw.count - offset, &sent)
            }
            if code == CURLE_AGAIN {
                waitFor(socket, events: Int16(POLLOUT))
                continue
            }
            try curlCheck(code, "curl_easy_send(\(operation))")
            offset += sent
        }
    }

    /// Reads the response head; returns whatever followed it (the stream's start).
    /// A status other than 101 or 200 becomes the engine's error.
    private func readHead(_ h: UnsafeMutableRawPointer, _ socket: curl_socket_t) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let terminator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = Self.find(terminator, in: received) {
                let head = String(decoding: received[..<end], as: UTF8.self)
                let rest = Array(received[(end + 4)...])
                let lines = head.components(separatedBy: "\r\n")
                let parts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
                let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                if status == 101 || status == 200 { return rest }
                var length: Int?
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    if line[..<colon].lowercased() == "content-length" {
                        length = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                    }
                }
                let body = readBody(h, socket, initial: rest, length: length)
                throw EngineError.from(status: status, body: body, operation: operation)
            }
            guard received.count < Self.maxHeadBytes else {
                throw EngineError(.decoding, operation: operation, message: "no end of the response head in \(received.count) bytes")
            }
            if isAborted { throw CancellationError() }
            var n = 0
            let code = buffer.withUnsafeMutableBytes { raw in curl_easy_recv(h, raw.baseAddress, raw.count, &n) }
            if code == CURLE_AGAIN {
                waitFor(socket, events: Int16(POLLIN))
                continue
            }
            try curlCheck(code, "curl_easy_recv(\(operation))")
            if n == 0 {
                throw EngineError(.transport, operation: operation, message: "the engine closed the connection before answering")
            }
            received += buffer[..<n]
        }
    }

    /// An error response's body (at most 1 MiB, at most 5 s).
    private func readBody(_ h: UnsafeMutableRawPointer, _ socket: curl_socket_t, initial: [UInt8], length: Int?) -> [UInt8] {
        var body = initial
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(5)
        while body.count < (length ?? (1 << 20)), ContinuousClock.now < deadline, !isAborted {
            var n = 0
            let code = buffer.withUnsafeMutableBytes { raw in curl_easy_recv(h, raw.baseAddress, raw.count, &n) }
            if code == CURLE_AGAIN {
                waitFor(socket, events: Int16(POLLIN), timeoutMilliseconds: 100)
                continue
            }
            if code != CURLE_OK || n == 0 { break }
            body += buffer[..<n]
        }
        return body
    }

    /// Sends queued input and delivers output until the engine closes the stream.
    private func pump(_ h: UnsafeMutableRawPointer, _ socket: curl_socket_t, initial: [UInt8]) throws {
        var demux = LogDemultiplexer()
        try deliver(initial, &demux)
        var outbox: [UInt8] = []
        var offset = 0
        var stdinClosed = false
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let (incoming, closeRequested, aborted) = shared.withLock { shared in
                defer { shared.pending.removeAll() }
                return (shared.pending, shared.closeRequested, shared.aborted)
            }
            if aborted { throw CancellationError() }
            if !stdinClosed, !incoming.isEmpty {
                if offset == outbox.count {
                    outbox = incoming
                    offset = 0
                } else {
                    outbox += incoming
                }
            }
            // Input, as much as the socket takes now.
            while !stdinClosed, offset < outbox.count {
                var sent = 0
                let code = outbox.withUnsafeBytes { raw in
                    curl_easy_send(h, raw.baseAddress! + offset, raw.count - offset, &sent)
                }
                if code == CURLE_AGAIN { break }
                if code != CURLE_OK {
                    // The engine stopped reading (the container has gone): the
                    // rest of the input has nowhere to go; output may still follow.
                    stdinClosed = true
                    break
                }
                offset += sent
                written.add(sent, ordering: .relaxed)
            }
            if offset >= outbox.count || stdinClosed {
                outbox.removeAll(keepingCapacity: true)
                offset = 0
            }
            if !stdinClosed, closeRequested, outbox.isEmpty {
                _ = shutdown(socket, Int32(SHUT_WR))
                stdinClosed = true
            }
            // Output, everything there is now.
            while true {
                var n = 0
                let code = buffer.withUnsafeMutableBytes { raw in curl_easy_recv(h, raw.baseAddress, raw.count, &n) }
                if code == CURLE_AGAIN { break }
                try curlCheck(code, "curl_easy_recv(\(operation))")
                if n == 0 {
                    try demux.finish()
                    return
                }
                try deliver(buffer[..<n], &demux)
            }
            waitFor(socket, events: outbox.isEmpty ? Int16(POLLIN) : Int16(POLLIN) | Int16(POLLOUT))
        }
    }

    private func deliver(_ bytes: some Collection<UInt8>, _ demux: inout LogDemultiplexer) throws {
        guard !bytes.isEmpty else { return }
        if tty {
            if case .terminated = chunks.yield(LogChunk(stream: .stdout, bytes: Array(bytes))) { throw CancellationError() }
            return
        }
        for chunk in try demux.feed(bytes) {
            if case .terminated = chunks.yield(chunk) { throw CancellationError() }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
