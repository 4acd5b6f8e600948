import Foundation
import Testing
@testable import FunctionMode

@Suite("The log book without an engine")
struct InvocationLogBookTests {
    @Test("a retried event keeps its request id: each attempt gets its own log and its own report")
    func retriesKeepTheirOwnLogs() async throws {
        let observer = RecordingObserver()
        let book = InvocationLogBook(observer: observer, settleTime: .milliseconds(10))
        let id = InvocationID("event-1")
        let (first, second) = (EnvironmentID("env-a"), EnvironmentID("env-b"))
        book.memory(first, maxUsageBytes: 5 << 20)
        book.memory(second, maxUsageBytes: 6 << 20)
        book.delivered(id, env: first, function: "f", memorySizeMiB: 128, initDuration: nil)
        book.output(first, function: "f", Array("attempt one\n".utf8))
        book.answered(id, duration: .milliseconds(3), outcome: .error, errorType: "Boom")
        // The retry starts on another environment before the first log has closed.
        book.delivered(id, env: second, function: "f", memorySizeMiB: 128, initDuration: nil)
        book.output(second, function: "f", Array("attempt two\n".utf8))
        func waitForReports(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(5)
            while observer.reports.count < count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        try await waitForReports(1)
        try await Task.sleep(for: .milliseconds(50))  // several settle times
        // The first attempt's report only: the second has not answered yet, so its log stays open.
        #expect(observer.reports.count == 1)
        book.answered(id, duration: .milliseconds(4), outcome: .success, errorType: nil)
        try await waitForReports(2)
        #expect(observer.reports.map(\.outcome) == [.error, .success])
        #expect(observer.reports.map(\.maxMemoryUsedMiB) == [5, 6])
        let lines = observer.lines("f")
        #expect(lines.filter { $0.hasPrefix("START RequestId: event-1") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("REPORT RequestId: event-1") }.count == 2)
        let one = try #require(lines.firstIndex(of: "attempt one"))
        let two = try #require(lines.firstIndex(of: "attempt two"))
        #expect(one < two)
    }
}

@Suite("The log book's claimed reports")
struct InvocationLogBookClaimTests {
    @Test("a claimed report goes to its caller, not the observer; the log lines still go to the observer")
    func claimed() async throws {
        let observer = RecordingObserver()
        let book = InvocationLogBook(observer: observer, settleTime: .milliseconds(10))
        let (claimed, other) = (InvocationID("event-1"), InvocationID("sync-1"))
        let env = EnvironmentID("env-a")
        book.memory(env, maxUsageBytes: 7 << 20)
        book.claimReport(claimed)
        book.delivered(claimed, env: env, function: "f", memorySizeMiB: 128, initDuration: nil)
        book.answered(claimed, duration: .milliseconds(3), outcome: .success, errorType: nil)
        let report = await book.report(of: claimed)
        #expect(report?.requestID == claimed)
        #expect(report?.maxMemoryUsedMiB == 7)
        book.delivered(other, env: env, function: "f", memorySizeMiB: 128, initDuration: nil)
        book.answered(other, duration: .milliseconds(3), outcome: .success, errorType: nil)
        let deadline = ContinuousClock.now + .seconds(5)
        while observer.reports.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(observer.reports.map(\.requestID) == [other])
        #expect(observer.lines("f").filter { $0.hasPrefix("REPORT RequestId:") }.count == 2)
    }

    @Test("a claimed invocation that never ran returns no report at once")
    func neverRan() async {
        let book = InvocationLogBook(observer: nil)
        book.claimReport(InvocationID("rejected"))
        #expect(await book.report(of: InvocationID("rejected")) == nil)
    }
}
