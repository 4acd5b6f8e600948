/// A JSON syntax check over raw bytes (RFC 8259, any value at the top level),
/// without building values: the Invoke API only has to know that a payload is
/// JSON, and passes its bytes on untouched.
enum JSONSyntax {
    /// Where and why a text is not JSON.
    struct Failure: Error, Equatable, Sendable {
        /// Byte offset of the offending byte (or the end of the text).
        var offset: Int
        /// 1-based line and column (columns count bytes).
        var line: Int
        var column: Int
        var reason: String

        var description: String { "\(reason) at line \(line), column \(column)" }
    }

    /// Nil when `bytes` is exactly one JSON value, surrounded by optional whitespace.
    static func check(_ bytes: some Collection<UInt8>) -> Failure? {
        let result: Failure?? = bytes.withContiguousStorageIfAvailable { check(buffer: UnsafeRawBufferPointer($0)) }
        if let result { return result }
        return Array(bytes).withUnsafeBytes { check(buffer: $0) }
    }

    static func check(buffer: UnsafeRawBufferPointer) -> Failure? {
        var scanner = Scanner(bytes: buffer)
        return scanner.document()
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        /// Open containers: `[` or `{`.
        var stack: [UInt8] = []

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func failure(_ reason: String, at offset: Int? = nil) -> Failure {
            let offset = min(offset ?? index, bytes.count)
            var line = 1
            var lineStart = 0
            for i in 0..<offset where bytes[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            return Failure(offset: offset, line: line, column: offset - lineStart + 1, reason: reason)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func document() -> Failure? {
            skipWhitespace()
            if index == bytes.count { return failure("No content to parse") }
            // An explicit stack instead of recursion: nesting depth is bounded
            // only by the payload size.
            while true {
                skipWhitespace()
                guard index < bytes.count else { return failure("Unexpected end of input") }
                // One value.
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "{"):
                    index += 1
                    skipWhitespace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                        index += 1
                    } else {
                        stack.append(UInt8(ascii: "{"))
                        if let failure = key() { return failure }
                        continue
                    }
                case UInt8(ascii: "["):
                    index += 1
                    skipWhitespace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                        index += 1
                    } else {
                        stack.append(UInt8(ascii: "["))
                        continue
                    }
                case UInt8(ascii: "\""):
                    if let failure = string() { return failure }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if let failure = number() { return failure }
                case UInt8(ascii: "t"):
                    if let failure = literal("true") { return failure }
                case UInt8(ascii: "f"):
                    if let failure = literal("false") { return failure }
                case UInt8(ascii: "n"):
                    if let failure = literal("null") { return failure }
                default:
                    return failure(unexpected(byte, expecting: "a JSON value (string, number, array, object, true, false or null)"))
                }
                // After a value: close containers or move to the next element.
                while true {
                    skipWhitespace()
                    guard let open = stack.last else {
                        if index < bytes.count {
                            return failure(unexpected(bytes[index], expecting: "the end of input"))
                        }
                        return nil
                    }
                    guard index < bytes.count else { return failure("Unexpected end of input") }
                    let next = bytes[index]
                    if next == UInt8(ascii: ",") {
                        index += 1
                        if open == UInt8(ascii: "{") {
                            skipWhitespace()
                            if let failure = key() { return failure }
                        }
                        break
                    }
                    let close = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    guard next == close else {
                        return failure(unexpected(next, expecting: "',' or '\(Character(Unicode.Scalar(close)))'"))
                    }
                    index += 1
                    stack.removeLast()
                }
            }
        }

        /// `"name" :` inside an object.
        mutating func key() -> Failure? {
            guard index < bytes.count else { return failure("Unexpected end of input") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                return failure(unexpected(bytes[index], expecting: "a double-quoted field name"))
            }
            if let failure = string() { return failure }
            skipWhitespace()
            guard index < bytes.count else { return failure("Unexpected end of input") }
            guard bytes[index] == UInt8(ascii: ":") else {
                return failure(unexpected(bytes[index], expecting: "':'"))
            }
            index += 1
            return nil
        }

        mutating func literal(_ word: StaticString) -> Failure? {
            let count = word.utf8CodeUnitCount
            let start = word.utf8Start
            for offset in 0..<count {
                guard index + offset < bytes.count, bytes[index + offset] == start[offset] else {
                    return failure("Unrecognized token: expected '\(word)'", at: index + offset)
                }
            }
            index += count
            return nil
        }

        mutating func number() -> Failure? {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                return failure("Invalid number: expected a digit")
            }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, isDigit(bytes[index]) {
                    return failure("Invalid number: leading zeroes are not allowed")
                }
            } else {
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else {
                    return failure("Invalid number: expected a digit after the decimal point")
                }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard index < bytes.count, isDigit(bytes[index]) else {
                    return failure("Invalid number: expected a digit in the exponent")
                }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            return nil
        }

        mutating func string() -> Failure? {
            index += 1  // the opening quote
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return nil
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { return failure("Unexpected end of input in a string") }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                         UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        for offset in 1...4 {
                            guard index + offset < bytes.count, isHexDigit(bytes[index + offset]) else {
                                return failure("Invalid escape: expected 4 hex digits after \\u", at: index + offset)
                            }
                        }
                        index += 5
                    default:
                        return failure("Unrecognized character escape '\\\(Character(Unicode.Scalar(bytes[index])))'")
                    }
                case 0..<0x20:
                    return failure("Illegal unquoted control character (code \(byte)) in a string")
                case 0..<0x80:
                    index += 1
                default:
                    if let failure = utf8Sequence() { return failure }
                }
            }
            return failure("Unexpected end of input in a string")
        }

        /// One multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
        mutating func utf8Sequence() -> Failure? {
            let lead = bytes[index]
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return failure("Invalid UTF-8 start byte 0x\(String(lead, radix: 16))")
            }
            for offset in 1..<length {
                guard index + offset < bytes.count else { return failure("Invalid UTF-8: truncated sequence", at: index + offset) }
                let byte = bytes[index + offset]
                let (min, max) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard byte >= min, byte <= max else {
                    return failure("Invalid UTF-8 middle byte 0x\(String(byte, radix: 16))", at: index + offset)
                }
            }
            index += length
            return nil
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }

        func unexpected(_ byte: UInt8, expecting: String) -> String {
            let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            return "Unexpected character \(shown): expected \(expecting)"
        }
    }
}
