/// A Docker Engine API version such as `1.41`.
public struct APIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `"1.41"`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else {
            return nil
        }
        self.init(major: major, minor: minor)
    }

    public static func < (lhs: APIVersion, rhs: APIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "\(major).\(minor)" }

    /// The newest version this client knows.
    public static let newestSupported = APIVersion(major: 1, minor: 47)
    /// The oldest version this client is written against (Docker 20.10).
    public static let oldestSupported = APIVersion(major: 1, minor: 41)

    /// `min(server, newestSupported)`; a server older than 1.41 gets its own version.
    public static func negotiate(server: APIVersion) -> APIVersion {
        min(server, newestSupported)
    }
}

/// An ordered query string, percent-encoded per RFC 3986.
struct Query: Sendable {
    var items: [(String, String)] = []

    mutating func add(_ name: String, _ value: String?) {
        if let value { items.append((name, value)) }
    }

    mutating func add(_ name: String, _ value: Bool?) {
        if let value { items.append((name, value ? "1" : "0")) }
    }

    mutating func add(_ name: String, _ value: Int?) {
        if let value { items.append((name, String(value))) }
    }

    var encoded: String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(Query.escape($0.0))=\(Query.escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }

    /// Escapes one path segment (a container name or id, an image reference).
    static func escapePathSegment(_ text: String) -> String {
        escape(text)
    }
}
