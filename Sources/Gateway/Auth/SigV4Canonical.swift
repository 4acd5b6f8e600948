import Crypto

/// The parts of AWS Signature Version 4 that turn a request into text: the
/// canonical URI, query and header values, hex, and the HMAC chain. Pure.
enum SigV4Canonical {
    /// The canonical URI of a path as received (still percent-encoded): dot
    /// segments and empty segments removed, then every byte but the unreserved
    /// ones and `/` percent-encoded. Services other than S3 encode the path the
    /// client sent once more, so an `%3A` on the wire is `%253A` here — which is
    /// what the AWS SDKs sign.
    static func uri(_ rawPath: String) -> String {
        encode(normalizedPath(rawPath), keepSlash: true)
    }

    /// RFC 3986's dot-segment removal, plus the removal of empty segments, as
    /// the SDKs do before signing.
    static func normalizedPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return leading + output.joined(separator: "/") + trailing
    }

    /// The canonical query: each `name=value` decoded, re-encoded strictly,
    /// sorted by name then value; a name without `=` has an empty value.
    static func query(_ rawQuery: String) -> String {
        var pairs: [(String, String)] = []
        for component in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = component.firstIndex(of: "=") {
                name = component[..<equals]
                value = component[component.index(after: equals)...]
            } else {
                name = component
                value = ""
            }
            pairs.append((encode(decode(name), keepSlash: false), encode(decode(value), keepSlash: false)))
        }
        pairs.sort { $0.0 == $1.0 ? Array($0.1.utf8).lexicographicallyPrecedes(Array($1.1.utf8))
            : Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// A header value as signed: trimmed, each run of spaces and tabs one space.
    static func headerValue(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(UInt8(ascii: " ")) }
            pendingSpace = false
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes every byte but `A-Z a-z 0-9 - _ . ~` (and `/` when kept), in upper-case hex.
    static func encode<S: StringProtocol>(_ text: S, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
    static func decode<S: StringProtocol>(_ text: S) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = Percent.hexValue(bytes[index + 1]), let low = Percent.hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }


    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func sha256Hex(_ text: String) -> String { hex(SHA256.hash(data: Array(text.utf8))) }

    static func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
    }

    /// `kSigning` = HMAC chain of "AWS4"+secret over date, region, service, "aws4_request".
    static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let kDate = hmac(Array("AWS4\(secret)".utf8), date)
        let kRegion = hmac(kDate, region)
        let kService = hmac(kRegion, service)
        return hmac(kService, "aws4_request")
    }

    /// Equal bytes, in time independent of where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
