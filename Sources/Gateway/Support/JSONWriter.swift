import NIOCore

/// Writes JSON straight into a `ByteBuffer`: the gateway builds its documents
/// (events, error bodies) without an encoder and without intermediate strings.
struct JSONWriter {
    var buffer: ByteBuffer
    private var needsComma: [Bool] = []

    init(capacity: Int = 512) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    // MARK: Containers

    mutating func beginObject() {
        separate()
        buffer.writeInteger(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    mutating func endObject() {
        buffer.writeInteger(UInt8(ascii: "}"))
        needsComma.removeLast()
    }

    mutating func beginArray() {
        separate()
        buffer.writeInteger(UInt8(ascii: "["))
        needsComma.append(false)
    }

    mutating func endArray() {
        buffer.writeInteger(UInt8(ascii: "]"))
        needsComma.removeLast()
    }

    /// `"name":` — the value written next belongs to it.
    mutating func key(_ name: String) {
        separate()
        Self.writeString(name, to: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Set between a key and its value: no comma goes there.
    private var afterKey = false

    /// A comma before every element of a container but the first.
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = needsComma.last else { return }
        if last {
            buffer.writeInteger(UInt8(ascii: ","))
        } else {
            needsComma[needsComma.count - 1] = true
        }
    }

    // MARK: Values

    mutating func string(_ value: String) {
        separate()
        Self.writeString(value, to: &buffer)
    }

    mutating func string<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) {
        separate()
        Self.writeString(utf8: bytes, to: &buffer)
    }

    mutating func int<I: BinaryInteger>(_ value: I) {
        separate()
        buffer.writeString(String(value))
    }

    mutating func bool(_ value: Bool) {
        separate()
        buffer.writeString(value ? "true" : "false")
    }

    mutating func null() {
        separate()
        buffer.writeString("null")
    }

    /// Bytes that already are JSON.
    mutating func raw(_ json: ByteBuffer) {
        separate()
        var json = json
        buffer.writeBuffer(&json)
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: String, _ value: Bool) {
        key(name)
        bool(value)
    }

    mutating func field<I: BinaryInteger>(_ name: String, _ value: I) {
        key(name)
        int(value)
    }

    // MARK: Escaping

    static func writeString(_ value: String, to buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { writeString(utf8: $0, to: &buffer) }
    }

    /// A JSON string literal of UTF-8 bytes: `"` and `\` and control characters
    /// escaped, everything else copied as is.
    static func writeString<Bytes: Collection<UInt8>>(utf8 bytes: Bytes, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var runStart = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.writeBytes(bytes[runStart..<index])
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
                case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
                case 0x0A: buffer.writeStaticString(#"\n"#)
                case 0x0D: buffer.writeStaticString(#"\r"#)
                case 0x09: buffer.writeStaticString(#"\t"#)
                case 0x08: buffer.writeStaticString(#"\b"#)
                case 0x0C: buffer.writeStaticString(#"\f"#)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString(#"\u00"#)
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0x0F)])
                }
                runStart = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        buffer.writeBytes(bytes[runStart..<bytes.endIndex])
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// A JSON string literal as a `String`.
    static func quoted(_ value: String) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: value.utf8.count + 2)
        writeString(value, to: &buffer)
        return String(buffer: buffer)
    }
}
