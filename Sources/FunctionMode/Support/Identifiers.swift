import Synchronization

/// Request ids and trace headers, made without a system call each.
///
/// Foundation's `UUID()` on Linux opens and reads `/dev/urandom` every time,
/// which cost more than the rest of an invocation's bookkeeping. These ids
/// come from a counter seeded once from the system's random source and mixed
/// with SplitMix64 (a bijection: no two ids of one process are equal). They
/// name invocations; they guard nothing: an environment can only ever answer
/// invocations on its own Runtime API endpoint, whatever ids it guesses.
public enum Identifiers {
    private static let counter = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    /// A fresh 64-bit value, unique within this process.
    static func next() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version-4 UUID in lowercase, as Lambda writes request ids
    /// (`8f5e3c1a-…`).
    public static func requestID() -> String {
        var high = next()
        var low = next()
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000  // RFC 4122 variant
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            func put(_ value: UInt64, digits: Int) {
                var shift = (digits - 1) * 4
                while shift >= 0 {
                    buffer[at] = hexDigit(UInt8((value >> UInt64(shift)) & 0xF))
                    at += 1
                    shift -= 4
                }
            }
            func dash() {
                buffer[at] = UInt8(ascii: "-")
                at += 1
            }
            put(high >> 32, digits: 8); dash()
            put(high >> 16, digits: 4); dash()
            put(high, digits: 4); dash()
            put(low >> 48, digits: 4); dash()
            put(low, digits: 12)
            return at
        }
    }

    /// An X-Ray trace header, as Lambda passes one to every invocation:
    /// `Root=1-{8 hex: epoch seconds}-{24 hex}; Parent={16 hex}; Sampled=0`.
    public static func traceHeader(epochSeconds: UInt64) -> String {
        "Root=1-\(hex(epochSeconds, digits: 8))-\(hex(next() >> 32, digits: 8))\(hex(next(), digits: 16));"
            + "Parent=\(hex(next(), digits: 16));Sampled=0"
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        String(unsafeUninitializedCapacity: digits) { buffer in
            for index in 0..<digits {
                buffer[index] = hexDigit(UInt8((value >> UInt64((digits - 1 - index) * 4)) & 0xF))
            }
            return digits
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
