import Manifest
import PropertyBased
import Testing

@Suite("Round trips")
struct PropertyTests {
    @Test("printing a size and parsing it back gives the same size")
    func byteSizeRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 0...(1 << 50))) { bytes in
            let size = ByteSize(bytes: Int64(bytes))
            #expect((try? ByteSize(parsing: size.description)) == size)
        }
    }

    @Test("printing a size built from a unit and parsing it back gives the same size")
    func byteSizeUnitsRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 0...100_000), Gen.int(in: 0...3)) { count, unit in
            let size = ByteSize(bytes: Int64(count) * [1, 1024, 1_000_000, 1 << 30][unit])
            #expect((try? ByteSize(parsing: size.description)) == size)
        }
    }

    @Test("printing a duration and parsing it back gives the same duration")
    func durationRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 0...(1 << 42))) { milliseconds in
            let duration = Duration(milliseconds: Int64(milliseconds))
            #expect((try? Duration(parsing: duration.description)) == duration)
        }
    }

    @Test("a rate schedule prints the way EventBridge writes it and parses back")
    func scheduleRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 1...10_000), Gen.int(in: 0...2)) { value, unit in
            let schedule = Schedule.rate(value: value, unit: Schedule.RateUnit.allCases[unit])
            #expect((try? Schedule(parsing: schedule.description)) == schedule)
        }
    }
}
