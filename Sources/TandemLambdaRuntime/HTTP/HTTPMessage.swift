/// Header fields in the order they arrived; lookups ignore case.
struct HTTPHeaders: Sendable, Equatable {
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    private(set) var fields: [Field] = []

    init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
    }

    mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The first value of `name` (case-insensitive), if any.
    subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of `name` (case-insensitive), in order.
    func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Header names compare ASCII case-insensitively (without allocating).
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for index in 0..<x.count where x[index] != y[index] {
                    guard isLetter(x[index]), x[index] | 0x20 == y[index] | 0x20 else { return false }
                }
                return true
            }
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }
}

/// An HTTP/1.1 request as the runtime sends it: always with a body length, so
/// the connection can be kept alive.
struct HTTPRequest: Sendable, Equatable {
    var method: String
    var path: String
    var headers: HTTPHeaders
    var body: [UInt8]

    init(method: String, path: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }

    static let userAgent = "tandem-lambda-runtime/0.1"

    /// The bytes on the wire: request line, `Host`, `User-Agent`, the request's
    /// own headers, `Content-Length` (omitted on a GET without a body), body.
    func encoded(host: String) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(Self.userAgent)\r\n"
        for field in headers.fields {
            head += "\(field.name): \(field.value)\r\n"
        }
        if !(method == "GET" && body.isEmpty) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        bytes.reserveCapacity(bytes.count + body.count)
        bytes.append(contentsOf: body)
        return bytes
    }
}

/// A complete HTTP response.
struct HTTPResponse: Sendable, Equatable {
    var status: Int
    var reason: String
    var headers: HTTPHeaders
    var body: [UInt8]

    /// Whether the server keeps the connection open after this response.
    var keepAlive: Bool {
        let tokens = headers.values("Connection")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIIWhitespace().lowercased() }
        return !tokens.contains("close")
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
