/// A span of time with millisecond resolution, such as a timeout.
///
/// Written in the manifest as one or more `number unit` parts, largest unit
/// first: `250ms`, `30s`, `15m`, `1h`, `1h30m`, `1.5s`, `2d`. Units are `ms`,
/// `s`, `m` (minutes), `h` and `d`. A plain number is rejected (`30` could be
/// seconds or milliseconds). The total must be a whole number of milliseconds.
///
/// Named like `Swift.Duration`, which it shadows in files that import
/// `Manifest`; convert with ``swiftDuration``.
public struct Duration: Hashable, Comparable, Sendable {
    /// The length in milliseconds.
    public var milliseconds: Int64

    /// A duration of `milliseconds` ms.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// `n` milliseconds.
    public static func milliseconds(_ n: Int64) -> Duration { Duration(milliseconds: n) }
    /// `n` seconds.
    public static func seconds(_ n: Int64) -> Duration { Duration(milliseconds: n * 1000) }
    /// `n` minutes.
    public static func minutes(_ n: Int64) -> Duration { Duration(milliseconds: n * 60_000) }
    /// `n` hours.
    public static func hours(_ n: Int64) -> Duration { Duration(milliseconds: n * 3_600_000) }

    /// The length in seconds (fractional).
    public var seconds: Double { Double(milliseconds) / 1000 }

    /// The same span as a standard-library `Swift.Duration`.
    public var swiftDuration: Swift.Duration { .milliseconds(milliseconds) }

    public static func < (lhs: Duration, rhs: Duration) -> Bool { lhs.milliseconds < rhs.milliseconds }
}

extension Duration {
    static let units: [(suffix: String, factor: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Why a text is not a duration; `hint` says what to write instead.
    public struct ParseError: Error, Hashable, Sendable {
        /// What is wrong.
        public var message: String
        /// What to write instead, when there is something to suggest.
        public var hint: String?
    }

    /// Parses `250ms`, `30s`, `15m`, `1h30m`, `1.5s`.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingASCIISpaces()
        let expected = ParseError(message: "expected a duration such as 30s, found \"\(text)\"")
        if !trimmed.isEmpty, Decimal(parsing: trimmed) != nil {
            throw ParseError(message: "a duration needs a unit, found \"\(text)\"",
                             hint: "write \(trimmed)s for seconds or \(trimmed)ms for milliseconds")
        }
        var rest = Substring(trimmed)
        var total: Int64 = 0
        var lastFactor = Int64.max
        if rest.isEmpty { throw expected }
        while !rest.isEmpty {
            let numberEnd = rest.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) }) ?? rest.endIndex
            guard let number = Decimal(parsing: String(rest[..<numberEnd])) else { throw expected }
            rest = rest[numberEnd...]
            let unitEnd = rest.firstIndex(where: { $0.isASCII && ($0.isNumber || $0 == ".") }) ?? rest.endIndex
            let unitText = String(rest[..<unitEnd])
            rest = rest[unitEnd...]
            guard let factor = Self.units.first(where: { $0.suffix == unitText })?.factor else {
                let hint: String? = switch unitText {
                case "sec", "secs", "second", "seconds", "S": "write \(number.text)s"
                case "min", "mins", "minute", "minutes", "M": "write \(number.text)m"
                case "hr", "hrs", "hour", "hours", "H": "write \(number.text)h"
                case "us", "µs", "ns": "the smallest unit is ms"
                default: "units are ms, s, m, h and d"
                }
                throw ParseError(message: "unknown duration unit \"\(unitText)\" in \"\(text)\"", hint: hint)
            }
            guard factor < lastFactor else {
                throw ParseError(message: "\"\(text)\" repeats a unit or puts a smaller unit first",
                                 hint: "write the largest unit first, as in 1h30m")
            }
            lastFactor = factor
            guard let part = number.times(factor) else {
                if number.times(factor, allowingFraction: true) != nil {
                    throw ParseError(message: "\"\(text)\" is not a whole number of milliseconds")
                }
                throw ParseError(message: "duration \"\(text)\" is too long")
            }
            let (sum, overflow) = total.addingReportingOverflow(part)
            if overflow { throw ParseError(message: "duration \"\(text)\" is too long") }
            total = sum
        }
        self.milliseconds = total
    }
}

extension Duration: CustomStringConvertible {
    /// The canonical spelling: hours, minutes, seconds and milliseconds, each
    /// only when not zero (`1h30m`, `1s250ms`, `250ms`, `0s`). Days are written as hours.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds
        var text = milliseconds < 0 ? "-" : ""
        rest = rest.magnitude > Int64.max.magnitude ? Int64.max : abs(rest)
        for (suffix, factor) in Self.units where suffix != "d" {
            let count = rest / factor
            if count > 0 { text += "\(count)\(suffix)" }
            rest %= factor
        }
        return text
    }
}

extension Decimal {
    var text: String {
        if fractionDigits == 0 { return "\(digits)" }
        var divisor: Int64 = 1
        for _ in 0..<fractionDigits { divisor *= 10 }
        let fraction = String(digits % divisor)
        return "\(digits / divisor)." + String(repeating: "0", count: fractionDigits - fraction.count) + fraction
    }
}
