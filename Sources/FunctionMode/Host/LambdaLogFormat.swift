import Foundation

/// The lines Lambda writes around each invocation, and the figures of its REPORT line.
public enum LambdaLogFormat {
    public static func start(_ requestID: InvocationID) -> String {
        "START RequestId: \(requestID) Version: $LATEST"
    }

    public static func end(_ requestID: InvocationID) -> String {
        "END RequestId: \(requestID)"
    }

    /// `REPORT RequestId: … Duration: … ms Billed Duration: … ms Memory Size: … MB
    /// Max Memory Used: … MB [Init Duration: … ms] [Status: …]`, tab-separated as Lambda writes it.
    public static func report(_ report: InvocationReport) -> String {
        var fields = [
            "REPORT RequestId: \(report.requestID)",
            "Duration: \(twoDecimals(report.durationMilliseconds)) ms",
            "Billed Duration: \(report.billedMilliseconds) ms",
            "Memory Size: \(report.memorySizeMiB) MB",
        ]
        if let used = report.maxMemoryUsedMiB { fields.append("Max Memory Used: \(used) MB") }
        if let initDuration = report.initDurationMilliseconds {
            fields.append("Init Duration: \(twoDecimals(initDuration)) ms")
        }
        switch report.outcome {
        case .timeout: fields.append("Status: timeout")
        case .crash, .oom, .initError: fields.append("Status: error")
        default: break
        }
        if report.outcome == .oom { fields.append("Error Type: Runtime.OutOfMemory") }
        return fields.joined(separator: "\t")
    }

    /// `12.35`: two decimals, rounded half away from zero (`String(format:)`
    /// costs several microseconds a call; this is on every invocation's path).
    static func twoDecimals(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        let hundredths = Int64((abs(value) * 100).rounded())
        let fraction = hundredths % 100
        return "\(value < 0 && hundredths != 0 ? "-" : "")\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Lambda bills whole milliseconds, rounded up (at least 1 ms).
    public static func billedMilliseconds(_ milliseconds: Double) -> Int {
        max(1, Int(milliseconds.rounded(.up)))
    }
}

/// One invocation's figures, as its REPORT line says them and the ledger keeps them.
public struct InvocationReport: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case success, error, timeout, crash, oom
        case initError = "init_error"
        case unavailable
    }

    public var requestID: InvocationID
    public var function: String
    public var environment: EnvironmentID
    /// When the invocation was handed to the runtime (ms since the epoch).
    public var startedAtEpochMilliseconds: Int64
    public var durationMilliseconds: Double
    public var billedMilliseconds: Int
    public var memorySizeMiB: Int
    public var maxMemoryUsedMiB: Int?
    public var initDurationMilliseconds: Double?
    public var cold: Bool { initDurationMilliseconds != nil }
    public var outcome: Outcome
    public var errorType: String?

    /// GB-seconds billed: billed seconds × memory in GB (Lambda's unit of price).
    public var gigabyteSeconds: Double {
        Double(billedMilliseconds) / 1000 * Double(memorySizeMiB) / 1024
    }
}

/// A line of a function's log and when it was written.
public struct LogLine: Sendable, Equatable {
    public var text: String
    public var time: Date

    public init(_ text: String, time: Date = Date()) {
        self.text = text
        self.time = time
    }
}

/// What a ``FunctionHost`` tells the rest of tandem about its functions.
public protocol FunctionHostObserver: Sendable {
    /// Lines of a function's log, in order (START, the function's output, END,
    /// REPORT). They may come in batches, a little after they were written.
    func functionLog(_ function: String, lines: [LogLine])
    /// One invocation's figures, once its REPORT line is written.
    func invocationReported(_ report: InvocationReport)
    /// Several invocations' figures at once (a busy function's logs close in batches).
    func invocationsReported(_ reports: [InvocationReport])
}

extension FunctionHostObserver {
    public func invocationsReported(_ reports: [InvocationReport]) {
        for report in reports { invocationReported(report) }
    }
}
