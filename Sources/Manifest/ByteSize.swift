/// An amount of memory or storage, in bytes.
///
/// Written in the manifest with a unit, Kubernetes style:
/// - binary units (powers of 1024): `Ki`, `Mi`, `Gi`, `Ti` — `512Mi` is 536,870,912 bytes;
/// - decimal units (powers of 1000): `k`, `M`, `G`, `T` — `128M` is 128,000,000 bytes;
/// - `B` for plain bytes: `100B`.
///
/// A fraction is allowed when it comes to a whole number of bytes (`1.5Gi`).
/// A plain number is rejected (`512` could be bytes or MiB), and so are Docker's
/// lower-case `m`/`g`/`mb`, which read as MiB in Docker but not in Kubernetes.
///
/// Lambda's memory figures ("128 MB … 10,240 MB") are MiB, so the function-mode
/// limits are written here as `128Mi … 10240Mi`.
public struct ByteSize: Hashable, Comparable, Sendable {
    /// The number of bytes.
    public var bytes: Int64

    /// A size of `bytes` bytes.
    public init(bytes: Int64) { self.bytes = bytes }

    /// `n` KiB (1024 bytes each).
    public static func kibibytes(_ n: Int64) -> ByteSize { ByteSize(bytes: n * 1024) }
    /// `n` MiB (2^20 bytes each).
    public static func mebibytes(_ n: Int64) -> ByteSize { ByteSize(bytes: n * 1_048_576) }
    /// `n` GiB (2^30 bytes each).
    public static func gibibytes(_ n: Int64) -> ByteSize { ByteSize(bytes: n * 1_073_741_824) }

    /// The size in MiB, as Lambda counts memory (fractional when not whole).
    public var mebibytes: Double { Double(bytes) / 1_048_576 }
    /// The size in GiB, as Lambda and Fargate bill it (GB-second, GB-hour).
    public var gibibytes: Double { Double(bytes) / 1_073_741_824 }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
}

extension ByteSize {
    /// The units accepted, largest first, with their multipliers.
    static let units: [(suffix: String, factor: Int64)] = [
        ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10),
        ("T", 1_000_000_000_000), ("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000),
        ("B", 1),
    ]

    /// Why a text is not a size; `hint` says what to write instead.
    public struct ParseError: Error, Hashable, Sendable {
        /// What is wrong.
        public var message: String
        /// What to write instead, when there is something to suggest.
        public var hint: String?
    }

    /// Parses `512Mi`, `1.5Gi`, `128M`, `64k`, `100B`.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingASCIISpaces()
        let expected = "expected a size such as 512Mi, found \"\(text)\""
        guard let numberEnd = trimmed.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) }) else {
            if trimmed.isEmpty || Decimal(parsing: trimmed) == nil {
                throw ParseError(message: expected)
            }
            throw ParseError(message: "a size needs a unit, found \"\(text)\"",
                             hint: "write \(trimmed)Mi for MiB, \(trimmed)Gi for GiB or \(trimmed)B for bytes")
        }
        let numberText = String(trimmed[..<numberEnd])
        let unitText = String(trimmed[numberEnd...]).trimmingASCIISpaces()
        guard let number = Decimal(parsing: numberText) else { throw ParseError(message: expected) }
        guard let factor = Self.units.first(where: { $0.suffix == unitText })?.factor else {
            let hint: String?
            switch unitText {
            case "m", "mb", "MB", "mi", "MiB": hint = "write \(numberText)Mi (MiB, 2^20 bytes) or \(numberText)M (10^6 bytes)"
            case "g", "gb", "GB", "gi", "GiB": hint = "write \(numberText)Gi (GiB, 2^30 bytes) or \(numberText)G (10^9 bytes)"
            case "K", "kb", "KB", "ki", "KiB": hint = "write \(numberText)Ki (KiB, 1024 bytes) or \(numberText)k (1000 bytes)"
            case "t", "tb", "TB", "ti", "TiB": hint = "write \(numberText)Ti or \(numberText)T"
            case "b": hint = "write \(numberText)B"
            default: hint = "units are Ki, Mi, Gi, Ti (powers of 1024), k, M, G, T (powers of 1000) and B"
            }
            throw ParseError(message: "unknown size unit \"\(unitText)\" in \"\(text)\"", hint: hint)
        }
        guard let bytes = number.times(factor) else {
            if number.fractionDigits > 0, number.times(factor, allowingFraction: true) != nil {
                throw ParseError(message: "\"\(text)\" is not a whole number of bytes",
                                 hint: "use a smaller unit, such as Mi or Ki")
            }
            throw ParseError(message: "size \"\(text)\" is too large")
        }
        self.bytes = bytes
    }
}

extension ByteSize: CustomStringConvertible {
    /// The canonical spelling: the shortest exact one, preferring binary units
    /// on a tie (`512Mi`, `1536Mi`, `128M`, `100B`).
    public var description: String {
        if bytes == 0 { return "0B" }
        var best = "\(bytes)B"
        for unit in Self.units where bytes % unit.factor == 0 {
            let candidate = "\(bytes / unit.factor)\(unit.suffix)"
            if candidate.count < best.count { best = candidate }
        }
        return best
    }
}

/// A non-negative decimal number kept exactly as digits (`1.5` is 15 × 10^-1),
/// so that `1.5Gi` and `0.25s` convert to whole units without floating point.
struct Decimal {
    var digits: Int64
    var fractionDigits: Int

    init?(parsing text: String) {
        var digits: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        var seenDigit = false
        for character in text {
            if character == "." {
                if seenPoint { return nil }
                seenPoint = true
                continue
            }
            guard let value = character.wholeNumberValue, character.isASCII else { return nil }
            seenDigit = true
            let (times10, overflow1) = digits.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(value))
            if overflow1 || overflow2 { return nil }
            digits = sum
            if seenPoint { fractionDigits += 1 }
        }
        if !seenDigit || fractionDigits > 18 { return nil }
        self.digits = digits
        self.fractionDigits = fractionDigits
    }

    /// `self × factor` when it is a whole number that fits in an `Int64`.
    func times(_ factor: Int64, allowingFraction: Bool = false) -> Int64? {
        let (product, overflow) = digits.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        var divisor: Int64 = 1
        for _ in 0..<fractionDigits { divisor *= 10 }
        if product % divisor != 0 && !allowingFraction { return nil }
        return product / divisor
    }

    var doubleValue: Double {
        var value = Double(digits)
        for _ in 0..<fractionDigits { value /= 10 }
        return value
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
