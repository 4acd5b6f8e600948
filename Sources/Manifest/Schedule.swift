/// When a scheduled trigger fires, in AWS EventBridge syntax.
///
/// - `rate(5 minutes)`: a positive whole number and a unit `minute`, `minutes`,
///   `hour`, `hours`, `day` or `days` — singular for 1, plural otherwise,
///   exactly as EventBridge requires.
/// - `cron(0 12 * * ? *)`: six fields, minutes hours day-of-month month
///   day-of-week year (UTC); one of day-of-month and day-of-week must be `?`.
public enum Schedule: Hashable, Sendable {
    /// Every `value` `unit`s.
    case rate(value: Int, unit: RateUnit)
    /// At the times a cron expression matches.
    case cron(CronExpression)

    /// The unit of a `rate(...)` schedule.
    public enum RateUnit: String, Hashable, Sendable, CaseIterable {
        case minute, hour, day

        /// Length of one unit.
        public var duration: Duration {
            switch self {
            case .minute: .minutes(1)
            case .hour: .hours(1)
            case .day: .hours(24)
            }
        }
    }

    /// Why a text is not a schedule; `hint` says what to write instead.
    public struct ParseError: Error, Hashable, Sendable {
        /// What is wrong.
        public var message: String
        /// What to write instead, when there is something to suggest.
        public var hint: String?
    }

    /// Parses `rate(...)` or `cron(...)`.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingASCIISpaces()
        if trimmed.hasPrefix("rate(") && trimmed.hasSuffix(")") {
            self = try Self.parseRate(String(trimmed.dropFirst(5).dropLast()), text: text)
        } else if trimmed.hasPrefix("cron(") && trimmed.hasSuffix(")") {
            self = .cron(try CronExpression(fields: String(trimmed.dropFirst(5).dropLast()), text: text))
        } else {
            throw ParseError(message: "expected a schedule such as \"rate(5 minutes)\" or \"cron(0 12 * * ? *)\", found \"\(text)\"")
        }
    }

    private static func parseRate(_ inner: String, text: String) throws(ParseError) -> Schedule {
        let parts = inner.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let value = Int(parts[0]) else {
            throw ParseError(message: "expected rate(VALUE UNIT) such as rate(5 minutes), found \"\(text)\"")
        }
        guard value > 0 else {
            throw ParseError(message: "a rate must be a positive whole number, found \"\(text)\"")
        }
        let unitText = String(parts[1])
        let singular = unitText.hasSuffix("s") ? String(unitText.dropLast()) : unitText
        guard let unit = RateUnit(rawValue: singular) else {
            throw ParseError(message: "unknown rate unit \"\(unitText)\" in \"\(text)\"",
                             hint: "units are minute(s), hour(s) and day(s)")
        }
        let expected = value == 1 ? unit.rawValue : unit.rawValue + "s"
        guard expected == unitText else {
            throw ParseError(message: "\"\(text)\" must say \"\(expected)\": singular for 1, plural otherwise",
                             hint: "write rate(\(value) \(expected))")
        }
        return .rate(value: value, unit: unit)
    }

    /// How many times a day it fires, on average (for cron: over a year of 365 days).
    public var averageRunsPerDay: Double {
        switch self {
        case let .rate(value, unit):
            return 86_400_000 / Double(Int64(value) * unit.duration.milliseconds)
        case let .cron(expression):
            return expression.averageRunsPerDay
        }
    }
}

extension Schedule: CustomStringConvertible {
    /// The EventBridge spelling, `rate(5 minutes)` or `cron(0 12 * * ? *)`.
    public var description: String {
        switch self {
        case let .rate(value, unit): "rate(\(value) \(value == 1 ? unit.rawValue : unit.rawValue + "s"))"
        case let .cron(expression): "cron(\(expression.description))"
        }
    }
}

/// A parsed EventBridge cron expression: six fields, in UTC.
public struct CronExpression: Hashable, Sendable, CustomStringConvertible {
    /// 0–59.
    public var minutes: CronField
    /// 0–23.
    public var hours: CronField
    /// 1–31, also `?`, `L` and `NW`.
    public var dayOfMonth: CronField
    /// 1–12 or JAN–DEC.
    public var month: CronField
    /// 1–7 (1 = Sunday) or SUN–SAT, also `?`, `L`, `NL` and `N#M`.
    public var dayOfWeek: CronField
    /// 1970–2199.
    public var year: CronField

    /// The six fields as written, separated by one space.
    public var description: String {
        [minutes, hours, dayOfMonth, month, dayOfWeek, year].map(\.text).joined(separator: " ")
    }

    init(fields inner: String, text: String) throws(Schedule.ParseError) {
        let parts = inner.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 6 else {
            throw Schedule.ParseError(
                message: "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), found \(parts.count) in \"\(text)\"",
                hint: parts.count == 5 ? "add the year field, as in cron(\(inner) *)" : nil)
        }
        minutes = try CronField(parsing: parts[0], kind: .minutes, text: text)
        hours = try CronField(parsing: parts[1], kind: .hours, text: text)
        dayOfMonth = try CronField(parsing: parts[2], kind: .dayOfMonth, text: text)
        month = try CronField(parsing: parts[3], kind: .month, text: text)
        dayOfWeek = try CronField(parsing: parts[4], kind: .dayOfWeek, text: text)
        year = try CronField(parsing: parts[5], kind: .year, text: text)
        switch (dayOfMonth.isNoSpecificValue, dayOfWeek.isNoSpecificValue) {
        case (true, true):
            throw Schedule.ParseError(message: "only one of day-of-month and day-of-week may be \"?\" in \"\(text)\"",
                                      hint: "write * for the other one")
        case (false, false):
            throw Schedule.ParseError(message: "one of day-of-month and day-of-week must be \"?\" in \"\(text)\"",
                                      hint: "write cron(\(parts[0]) \(parts[1]) \(parts[2]) \(parts[3]) ? \(parts[5]))")
        default: break
        }
    }

    /// Average number of matches a day (fields with `L`, `W` or `#` count as one day a month).
    var averageRunsPerDay: Double {
        let perDay = Double(minutes.matchCount(in: 0...59) * hours.matchCount(in: 0...23))
        let monthFraction = Double(month.matchCount(in: 1...12)) / 12
        let dayFraction: Double
        if dayOfMonth.isNoSpecificValue {
            dayFraction = Double(dayOfWeek.matchCount(in: 1...7)) / 7
        } else {
            dayFraction = Double(dayOfMonth.matchCount(in: 1...31)) / 30.4375
        }
        let yearFraction: Double = year.isEvery ? 1 : 0.01
        return perDay * min(1, dayFraction) * monthFraction * yearFraction
    }
}

/// One field of a cron expression.
public struct CronField: Hashable, Sendable {
    /// The field as written (upper-cased).
    public var text: String
    /// The parsed terms, separated by commas in the text; empty for `?`.
    public var terms: [CronTerm]

    /// `?`: no specific value (day-of-month or day-of-week only).
    public var isNoSpecificValue: Bool { text == "?" }
    /// `*`: every value.
    public var isEvery: Bool { terms == [.every(step: 1)] }

    enum Kind {
        case minutes, hours, dayOfMonth, month, dayOfWeek, year

        var range: ClosedRange<Int> {
            switch self {
            case .minutes: 0...59
            case .hours: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 1...7
            case .year: 1970...2199
            }
        }

        var name: String {
            switch self {
            case .minutes: "minutes"
            case .hours: "hours"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            case .year: "year"
            }
        }

        var names: [String] {
            switch self {
            case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            default: []
            }
        }
    }

    init(parsing raw: String, kind: Kind, text: String) throws(Schedule.ParseError) {
        let field = raw.uppercased()
        self.text = field
        func bad(_ why: String) -> Schedule.ParseError {
            Schedule.ParseError(message: "bad \(kind.name) field \"\(raw)\" in \"\(text)\": \(why)")
        }
        func value(_ token: Substring) throws(Schedule.ParseError) -> Int {
            if let index = kind.names.firstIndex(of: String(token)) { return kind.range.lowerBound + index }
            guard let number = Int(token) else { throw bad("\"\(token)\" is not a number") }
            guard kind.range.contains(number) else {
                throw bad("\(number) is outside \(kind.range.lowerBound)–\(kind.range.upperBound)")
            }
            return number
        }
        if field == "?" {
            guard kind == .dayOfMonth || kind == .dayOfWeek else {
                throw bad("\"?\" is only allowed in day-of-month and day-of-week")
            }
            terms = []
            return
        }
        var terms: [CronTerm] = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            if part.isEmpty { throw bad("empty list item") }
            if part == "L" && (kind == .dayOfMonth || kind == .dayOfWeek) {
                terms.append(kind == .dayOfMonth ? .lastDayOfMonth : .value(7))
                continue
            }
            if kind == .dayOfMonth && part == "LW" {
                terms.append(.lastWeekdayOfMonth)
                continue
            }
            if kind == .dayOfMonth && part.hasSuffix("W") {
                terms.append(.nearestWeekday(try value(part.dropLast())))
                continue
            }
            if kind == .dayOfWeek && part.hasSuffix("L") {
                terms.append(.lastWeekdayInMonth(try value(part.dropLast())))
                continue
            }
            if kind == .dayOfWeek, let hash = part.firstIndex(of: "#") {
                let day = try value(part[..<hash])
                guard let nth = Int(part[part.index(after: hash)...]), (1...5).contains(nth) else {
                    throw bad("the number after # must be 1–5")
                }
                terms.append(.nthWeekday(day, nth))
                continue
            }
            var base = part
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                base = part[..<slash]
                guard let parsed = Int(part[part.index(after: slash)...]), parsed > 0 else {
                    throw bad("the step after / must be a positive number")
                }
                step = parsed
            }
            if base == "*" {
                terms.append(.every(step: step))
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(base[..<dash])
                let high = try value(base[base.index(after: dash)...])
                guard low <= high else { throw bad("range \(base) goes backwards") }
                terms.append(.range(low, high, step: step))
            } else {
                let start = try value(base)
                terms.append(part.contains("/") ? .range(start, kind.range.upperBound, step: step) : .value(start))
            }
        }
        self.terms = terms
    }

    /// How many values in `range` the field matches (special day terms count as one).
    func matchCount(in range: ClosedRange<Int>) -> Int {
        var matched = Set<Int>()
        var specials = 0
        for term in terms {
            switch term {
            case let .value(v): matched.insert(v)
            case let .every(step): for v in stride(from: range.lowerBound, through: range.upperBound, by: step) { matched.insert(v) }
            case let .range(low, high, step): for v in stride(from: low, through: high, by: step) { matched.insert(v) }
            default: specials += 1
            }
        }
        return matched.count + specials
    }
}

/// One comma-separated term of a cron field.
public enum CronTerm: Hashable, Sendable {
    /// `N` (names such as `MON` or `JAN` become their numbers).
    case value(Int)
    /// `*` or `*/step`.
    case every(step: Int)
    /// `A-B`, `A-B/step`, or `A/step` (from A to the field's end).
    case range(Int, Int, step: Int)
    /// `L` in day-of-month.
    case lastDayOfMonth
    /// `LW` in day-of-month.
    case lastWeekdayOfMonth
    /// `NW` in day-of-month: the weekday nearest day N.
    case nearestWeekday(Int)
    /// `NL` in day-of-week: the last day N of the month.
    case lastWeekdayInMonth(Int)
    /// `N#M` in day-of-week: the Mth day N of the month.
    case nthWeekday(Int, Int)
}
