/// One version of a workload's spec: a stable hash (FNV-1a, 64 bits, 16 hex
/// digits) of everything its runner uses, the same in every run of tandem.
public struct Revision: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// The revision of a spec given as labelled fields (order matters; labels
    /// keep `a=1,b=` apart from `a=,b=1`).
    init(fields: [(String, String)]) {
        var hasher = RevisionHasher()
        for (label, value) in fields {
            hasher.mix(label)
            hasher.mix(value)
        }
        rawValue = hasher.hex
    }

    public var description: String { rawValue }
}

/// FNV-1a over length-prefixed strings: stable across processes (unlike `Hasher`).
struct RevisionHasher {
    private(set) var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ text: String) {
        mix(bytes: String(text.utf8.count).utf8)
        mix(bytes: [0x3A])
        mix(bytes: text.utf8)
    }

    private mutating func mix(bytes: some Sequence<UInt8>) {
        for byte in bytes {
            state ^= UInt64(byte)
            state = state &* 0x0000_0100_0000_01b3
        }
    }

    var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
