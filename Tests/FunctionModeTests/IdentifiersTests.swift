import Foundation
import Testing
@testable import FunctionMode

@Suite("Request ids, trace headers and REPORT figures")
struct IdentifiersTests {
    @Test("request ids are lowercase version-4 UUIDs that Foundation parses back")
    func requestIDShape() throws {
        for _ in 0..<1000 {
            let id = Identifiers.requestID()
            #expect(id.count == 36)
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = Array(id.utf8)
            #expect(bytes[14] == UInt8(ascii: "4"), "version 4: \(id)")
            #expect("89ab".utf8.contains(bytes[19]), "RFC 4122 variant: \(id)")
        }
    }

    @Test("100,000 request ids from 8 threads at once are all different")
    func requestIDsUnique() async {
        let all = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<12_500).map { _ in Identifiers.requestID() } } }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
        #expect(all.count == 100_000)
        #expect(Set(all).count == 100_000)
    }

    @Test("trace headers follow X-Ray's Root=1-{epoch}-{24 hex};Parent={16 hex};Sampled=0")
    func traceHeader() throws {
        let header = Identifiers.traceHeader(epochSeconds: 0x5bef_4de7)
        let pattern = try Regex("^Root=1-5bef4de7-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")
        #expect(header.wholeMatch(of: pattern) != nil, "\(header)")
        #expect(Identifiers.traceHeader(epochSeconds: 1) != Identifiers.traceHeader(epochSeconds: 1))
    }

    @Test("REPORT's two decimals match printf's %.2f away from exact halves",
          arguments: [0.0, 0.004, 0.006, 0.13, 0.199, 1.0, 12.345_6, 99.999, 100.0, 1234.5678, 900_000.12, 0.5e-3])
    func twoDecimals(_ value: Double) {
        #expect(LambdaLogFormat.twoDecimals(value) == String(format: "%.2f", value))
    }

    @Test("two decimals over a sweep of durations agree with %.2f")
    func twoDecimalsSweep() {
        var value = 0.0173
        var mismatches: [String] = []
        while value < 20_000 {
            let ours = LambdaLogFormat.twoDecimals(value)
            let printf = String(format: "%.2f", value)
            if ours != printf { mismatches.append("\(value): \(ours) vs \(printf)") }
            value = value * 1.0371 + 0.0011
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
