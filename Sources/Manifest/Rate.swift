/// A request rate, written with its unit: `5/s`, `300/m`, `10/h`, `100/d`
/// (a fraction is fine: `0.5/s`). A plain number is rejected, so that `300`
/// cannot be misread as per second when per minute was meant.
public struct Rate: Hashable, Comparable, Sendable {
    /// Requests per second.
    public var perSecond: Double

    /// A rate of `perSecond` requests per second.
    public init(perSecond: Double) { self.perSecond = perSecond }

    /// Requests per day.
    public var perDay: Double { perSecond * 86_400 }

    public static func < (lhs: Rate, rhs: Rate) -> Bool { lhs.perSecond < rhs.perSecond }

    static let units: [(suffix: String, seconds: Double)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]

    /// Why a text is not a rate; `hint` says what to write instead.
    public struct ParseError: Error, Hashable, Sendable {
        /// What is wrong.
        public var message: String
        /// What to write instead, when there is something to suggest.
        public var hint: String?
    }

    /// Parses `5/s`, `300/m`, `10/h`, `100/d`.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingASCIISpaces()
        if Decimal(parsing: trimmed) != nil {
            throw ParseError(message: "a rate needs a unit, found \"\(text)\"",
                             hint: "write \(trimmed)/s for requests per second (or /m, /h, /d)")
        }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let number = Decimal(parsing: parts[0].trimmingASCIISpaces()) else {
            throw ParseError(message: "expected a rate such as 5/s, found \"\(text)\"")
        }
        let unitText = parts[1].trimmingASCIISpaces()
        let aliases = ["sec": "s", "second": "s", "min": "m", "minute": "m", "hour": "h", "day": "d"]
        guard let unit = Self.units.first(where: { $0.suffix == unitText }) else {
            throw ParseError(message: "unknown rate unit \"/\(unitText)\" in \"\(text)\"",
                             hint: aliases[unitText].map { "write \(number.text)/\($0)" } ?? "units are /s, /m, /h and /d")
        }
        perSecond = number.doubleValue / unit.seconds
    }
}

extension Rate: CustomStringConvertible {
    /// `5/s` when at least one a second, else per minute, hour or day, whichever reads best.
    public var description: String {
        for unit in Self.units {
            let count = perSecond * unit.seconds
            if count >= 1 || unit.suffix == "d" {
                let rounded = (count * 1000).rounded() / 1000
                let text = rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
                return "\(text)/\(unit.suffix)"
            }
        }
        return "0/s"
    }
}
