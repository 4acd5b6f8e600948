/// An incremental HTTP/1.1 response parser: feed it bytes as they arrive, in
/// pieces cut anywhere, and take complete responses out.
///
/// Pure (no I/O), so it is tested without sockets. Handles `Content-Length`,
/// `Transfer-Encoding: chunked` (with extensions and trailers), responses that
/// never carry a body (1xx, 204, 304), and bodies delimited by the end of the
/// connection. Interim 1xx responses are skipped.
struct HTTPResponseParser {
    /// The longest status line plus header block accepted.
    static let maximumHeadLength = 64 * 1024

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    private var buffer: [UInt8] = []
    private var start = 0
    private var status = 0
    private var reason = ""
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []

    init() {}

    /// Whether a response has started but not completed (or bytes wait unread).
    var isIdle: Bool {
        if case .head = state { return start == buffer.count }
        return false
    }

    mutating func feed(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete response, or nil if more bytes are needed.
    mutating func nextResponse() throws -> HTTPResponse? {
        while true {
            switch state {
            case .head:
                guard let end = find(crlfcrlf) else {
                    if buffer.count - start > Self.maximumHeadLength {
                        throw LambdaRuntimeError(.malformedResponse, "response head longer than \(Self.maximumHeadLength) bytes")
                    }
                    return nil
                }
                let head = buffer[start..<end]
                start = end + 4
                try parseHead(head)
                if (100..<200).contains(status) {
                    reset()
                    continue
                }
                if status == 204 || status == 304 {
                    return complete()
                }
                if let encoding = headers["Transfer-Encoding"] {
                    let last = encoding.split(separator: ",").last.map { $0.trimmingASCIIWhitespace().lowercased() }
                    guard last == "chunked" else {
                        throw LambdaRuntimeError(.malformedResponse, "unsupported Transfer-Encoding \(encoding)")
                    }
                    state = .chunkSize
                } else {
                    let lengths = headers.values("Content-Length")
                    if lengths.isEmpty {
                        state = .untilClose
                    } else {
                        // Repeated or comma-joined values must agree (RFC 9110, 8.6).
                        let parsed = Set(lengths.flatMap { $0.split(separator: ",") }.map { Int($0.trimmingASCIIWhitespace()) })
                        guard parsed.count == 1, let only = parsed.first, let length = only, length >= 0 else {
                            throw LambdaRuntimeError(.malformedResponse, "bad Content-Length \(lengths)")
                        }
                        state = .fixedBody(remaining: length)
                    }
                }

            case .fixedBody(let remaining):
                let take = min(remaining, buffer.count - start)
                body.append(contentsOf: buffer[start..<start + take])
                start += take
                if take == remaining {
                    return complete()
                }
                state = .fixedBody(remaining: remaining - take)
                compact()
                return nil

            case .chunkSize:
                guard let end = find(crlf) else {
                    if buffer.count - start > 1024 {
                        throw LambdaRuntimeError(.malformedResponse, "chunk size line too long")
                    }
                    return nil
                }
                let line = buffer[start..<end]
                start = end + 2
                let sizeDigits = line.prefix { $0 != UInt8(ascii: ";") }
                guard let size = Int(String(decoding: sizeDigits, as: UTF8.self).trimmingASCIIWhitespace(), radix: 16),
                      size >= 0 else {
                    throw LambdaRuntimeError(.malformedResponse, "bad chunk size \"\(String(decoding: line, as: UTF8.self))\"")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)

            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - start)
                body.append(contentsOf: buffer[start..<start + take])
                start += take
                if take < remaining {
                    state = .chunkData(remaining: remaining - take)
                    compact()
                    return nil
                }
                state = .chunkDataEnd

            case .chunkDataEnd:
                guard buffer.count - start >= 2 else { return nil }
                guard buffer[start] == 13, buffer[start + 1] == 10 else {
                    throw LambdaRuntimeError(.malformedResponse, "chunk not followed by CRLF")
                }
                start += 2
                state = .chunkSize

            case .trailers:
                guard let end = find(crlf) else { return nil }
                let isLast = end == start
                start = end + 2
                if isLast {
                    return complete()
                }

            case .untilClose:
                body.append(contentsOf: buffer[start...])
                start = buffer.count
                compact()
                return nil
            }
        }
    }

    /// The connection ended: the response delimited by the close, if that is
    /// how it was delimited; nil if nothing had started; otherwise an error.
    mutating func finish() throws -> HTTPResponse? {
        switch state {
        case .head where start == buffer.count:
            return nil
        case .untilClose:
            _ = try nextResponse()
            return complete()
        default:
            throw LambdaRuntimeError(.truncatedResponse, "the connection closed in the middle of a response")
        }
    }

    // MARK: - Helpers

    private let crlf: [UInt8] = [13, 10]
    private let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count - start >= needle.count else { return nil }
        var index = start
        let last = buffer.count - needle.count
        while index <= last {
            if buffer[index] == needle[0] {
                var match = true
                for offset in 1..<needle.count where buffer[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index }
            }
            index += 1
        }
        return nil
    }

    /// The status line and header fields, read as bytes (every response of
    /// every invocation goes through here).
    private mutating func parseHead(_ head: ArraySlice<UInt8>) throws {
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        for index in head.indices where head[index] == 10 {
            lines.append(head[lineStart..<index])
            lineStart = index + 1
        }
        lines.append(head[lineStart...])
        lines = lines.map { $0.last == 13 ? $0.dropLast() : $0 }
        let statusLine = lines.removeFirst()
        // HTTP/1.x SP 3DIGIT [SP reason]
        let prefix = Array("HTTP/1.".utf8)
        let digits = statusLine.dropFirst(prefix.count + 2).prefix(3)
        guard statusLine.starts(with: prefix), statusLine.count >= prefix.count + 5,
              statusLine[statusLine.startIndex + prefix.count + 1] == 32,
              digits.count == 3, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }), digits.first != 48,
              statusLine.count == prefix.count + 5 || statusLine[statusLine.startIndex + prefix.count + 5] == 32
        else {
            throw LambdaRuntimeError(.malformedResponse, "bad status line \"\(text(statusLine))\"")
        }
        status = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        reason = text(statusLine.dropFirst(prefix.count + 6))
        headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: 58), colon != line.startIndex else {
                throw LambdaRuntimeError(.malformedResponse, "bad header line \"\(text(line))\"")
            }
            let name = line[..<colon]
            guard !name.contains(32), !name.contains(9) else {
                throw LambdaRuntimeError(.malformedResponse, "bad header name \"\(text(name))\"")
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
            while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
            headers.add(name: text(name), value: text(value))
        }
    }

    private mutating func complete() -> HTTPResponse {
        let response = HTTPResponse(status: status, reason: reason, headers: headers, body: body)
        reset()
        return response
    }

    private mutating func reset() {
        state = .head
        status = 0
        reason = ""
        headers = HTTPHeaders()
        body = []
        compact()
    }

    /// Drops consumed bytes once they are most of the buffer.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
