import Manifest
import Testing

@Suite("ByteSize")
struct ByteSizeTests {
    @Test("a size with a unit parses to bytes", arguments: [
        ("512Mi", Int64(536_870_912)), ("1.5Gi", 1_610_612_736), ("128M", 128_000_000), ("1G", 1_000_000_000),
        ("64k", 64_000), ("64Ki", 65_536), ("100B", 100), ("0B", 0), ("2Ti", 2_199_023_255_552),
        ("10240Mi", 10_737_418_240), (" 256Mi ", 268_435_456), ("0.5Ki", 512),
    ])
    func parses(text: String, bytes: Int64) throws {
        #expect(try ByteSize(parsing: text).bytes == bytes)
    }

    @Test("a size without a valid unit is refused with a message", arguments: [
        ("512", "a size needs a unit, found \"512\""),
        ("lots", "expected a size such as 512Mi, found \"lots\""),
        ("512m", "unknown size unit \"m\" in \"512m\""),
        ("1GB", "unknown size unit \"GB\" in \"1GB\""),
        ("0.3B", "\"0.3B\" is not a whole number of bytes"),
        ("", "expected a size such as 512Mi, found \"\""),
        ("-1Mi", "expected a size such as 512Mi, found \"-1Mi\""),
        ("1.2.3Mi", "expected a size such as 512Mi, found \"1.2.3Mi\""),
        ("99999999999Ti", "size \"99999999999Ti\" is too large"),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: ByteSize.ParseError.self) { try ByteSize(parsing: text) }
        do { _ = try ByteSize(parsing: text) } catch { #expect(error.message == message) }
    }

    @Test("a size prints in its shortest exact unit", arguments: [
        (Int64(536_870_912), "512Mi"), (1_610_612_736, "1536Mi"), (128_000_000, "128M"), (100, "100B"),
        (0, "0B"), (1024, "1Ki"), (1000, "1k"), (1_073_741_824, "1Gi"), (1_500_000, "1500k"),
    ])
    func prints(bytes: Int64, text: String) {
        #expect(ByteSize(bytes: bytes).description == text)
    }
}

@Suite("Duration")
struct DurationTests {
    @Test("a duration with units parses to milliseconds", arguments: [
        ("250ms", Int64(250)), ("30s", 30_000), ("15m", 900_000), ("1h", 3_600_000), ("1h30m", 5_400_000),
        ("1.5s", 1500), ("2d", 172_800_000), ("1m30s500ms", 90_500), ("0s", 0), ("0.25h", 900_000),
    ])
    func parses(text: String, milliseconds: Int64) throws {
        #expect(try Duration(parsing: text).milliseconds == milliseconds)
    }

    @Test("a duration without a valid unit is refused with a message", arguments: [
        ("30", "a duration needs a unit, found \"30\""),
        ("soon", "expected a duration such as 30s, found \"soon\""),
        ("5 minutes", "unknown duration unit \" minutes\" in \"5 minutes\""),
        ("30sec", "unknown duration unit \"sec\" in \"30sec\""),
        ("30m1h", "\"30m1h\" repeats a unit or puts a smaller unit first"),
        ("1s1s", "\"1s1s\" repeats a unit or puts a smaller unit first"),
        ("0.5ms", "\"0.5ms\" is not a whole number of milliseconds"),
        ("", "expected a duration such as 30s, found \"\""),
        ("-5s", "expected a duration such as 30s, found \"-5s\""),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: Duration.ParseError.self) { try Duration(parsing: text) }
        do { _ = try Duration(parsing: text) } catch { #expect(error.message == message) }
    }

    @Test("a duration prints as hours, minutes, seconds and milliseconds", arguments: [
        (Int64(250), "250ms"), (90_500, "1m30s500ms"), (5_400_000, "1h30m"), (0, "0s"), (172_800_000, "48h"),
    ])
    func prints(milliseconds: Int64, text: String) {
        #expect(Duration(milliseconds: milliseconds).description == text)
    }
}

@Suite("Rate")
struct RateTests {
    @Test("a rate with a unit parses to requests per second", arguments: [
        ("5/s", 5.0), ("300/m", 5.0), ("10/h", 10.0 / 3600), ("0.5/s", 0.5), ("86400/d", 1.0),
    ])
    func parses(text: String, perSecond: Double) throws {
        #expect(abs(try Rate(parsing: text).perSecond - perSecond) < 1e-12)
    }

    @Test("a rate without a unit is refused with a hint", arguments: [
        ("300", "a rate needs a unit, found \"300\"", "write 300/s for requests per second (or /m, /h, /d)"),
        ("5/min", "unknown rate unit \"/min\" in \"5/min\"", "write 5/m"),
        ("fast", "expected a rate such as 5/s, found \"fast\"", nil),
    ] as [(String, String, String?)])
    func refuses(text: String, message: String, hint: String?) {
        do {
            _ = try Rate(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.message == message)
            #expect(error.hint == hint)
        }
    }

    @Test("a rate prints in the smallest unit with at least one request", arguments: [
        (5.0, "5/s"), (0.5, "30/m"), (1.0 / 3600, "1/h"), (1.0 / 86_400, "1/d"),
    ])
    func prints(perSecond: Double, text: String) {
        #expect(Rate(perSecond: perSecond).description == text)
    }
}

@Suite("Schedule")
struct ScheduleTests {
    @Test("EventBridge rate expressions parse with singular and plural units", arguments: [
        ("rate(1 minute)", 1, Schedule.RateUnit.minute), ("rate(5 minutes)", 5, .minute),
        ("rate(1 hour)", 1, .hour), ("rate(12 hours)", 12, .hour), ("rate(1 day)", 1, .day), ("rate(7 days)", 7, .day),
    ])
    func rate(text: String, value: Int, unit: Schedule.RateUnit) throws {
        let schedule = try Schedule(parsing: text)
        #expect(schedule == .rate(value: value, unit: unit))
        #expect(schedule.description == text)
    }

    @Test("bad rate expressions are refused", arguments: [
        "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)", "rate(5 seconds)",
        "rate(5)", "rate(five minutes)", "rate(1.5 hours)", "every 5 minutes",
    ])
    func badRate(text: String) {
        #expect(throws: Schedule.ParseError.self) { try Schedule(parsing: text) }
    }

    @Test("EventBridge cron expressions parse", arguments: [
        "cron(0 12 * * ? *)", "cron(15 10 ? * 6L 2022-2023)", "cron(0/15 * * * ? *)", "cron(0 8 1 * ? *)",
        "cron(0 18 ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)", "cron(0 0 L * ? *)",
        "cron(0 0 15W * ? *)", "cron(30 2 ? JAN,JUL SUN *)", "cron(*/10 * ? * * *)", "cron(0 0 LW * ? *)",
    ])
    func cron(text: String) throws {
        let schedule = try Schedule(parsing: text)
        guard case .cron = schedule else {
            Issue.record("not a cron schedule")
            return
        }
        #expect(schedule.description == text.uppercased().replacingOccurrences(of: "CRON(", with: "cron("))
    }

    @Test("bad cron expressions are refused with a message", arguments: [
        ("cron(0 12 * * * *)", "one of day-of-month and day-of-week must be \"?\""),
        ("cron(0 12 ? * ? *)", "only one of day-of-month and day-of-week may be \"?\""),
        ("cron(0 12 * * ?)", "a cron expression has 6 fields"),
        ("cron(60 12 * * ? *)", "bad minutes field \"60\""),
        ("cron(0 24 * * ? *)", "bad hours field \"24\""),
        ("cron(0 0 32 * ? *)", "bad day-of-month field \"32\""),
        ("cron(0 0 ? 13 * *)", "bad month field \"13\""),
        ("cron(0 0 ? * 8 *)", "bad day-of-week field \"8\""),
        ("cron(0 0 ? * FUNDAY *)", "bad day-of-week field \"FUNDAY\""),
        ("cron(0 0 ? * 2#6 *)", "bad day-of-week field \"2#6\""),
        ("cron(0 0 ? * MON 1900)", "bad year field \"1900\""),
        ("cron(? 0 * * ? *)", "bad minutes field \"?\""),
        ("cron(0 5-2 * * ? *)", "bad hours field \"5-2\""),
        ("cron(0/0 * * * ? *)", "bad minutes field \"0/0\""),
        ("cron(0,,5 * * * ? *)", "bad minutes field \"0,,5\""),
    ])
    func badCron(text: String, message: String) {
        do {
            _ = try Schedule(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test("a schedule knows how often it fires", arguments: [
        ("rate(5 minutes)", 288.0), ("rate(1 day)", 1.0), ("cron(0 12 * * ? *)", 1.0), ("cron(0/15 * * * ? *)", 96.0),
        ("cron(0 9 ? * MON-FRI *)", 5.0 / 7),
    ])
    func runsPerDay(text: String, perDay: Double) throws {
        #expect(abs(try Schedule(parsing: text).averageRunsPerDay - perDay) < 1e-9)
    }

    @Test("cron fields keep their parsed terms")
    func cronTerms() throws {
        guard case let .cron(cron) = try Schedule(parsing: "cron(0/15 8-17 ? JAN,MAR MON#2 *)") else {
            Issue.record("not cron")
            return
        }
        #expect(cron.minutes.terms == [.range(0, 59, step: 15)])
        #expect(cron.hours.terms == [.range(8, 17, step: 1)])
        #expect(cron.dayOfMonth.isNoSpecificValue)
        #expect(cron.month.terms == [.value(1), .value(3)])
        #expect(cron.dayOfWeek.terms == [.nthWeekday(2, 2)])
        #expect(cron.year.isEvery)
    }
}
