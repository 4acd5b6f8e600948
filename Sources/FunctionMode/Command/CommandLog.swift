import Foundation

/// One command invocation's log, written the way Lambda writes a function's log:
/// `START`, the function's own log lines, `END`, `REPORT`.
///
/// The function's log is what the process writes to **stderr**. Its stdout is
/// the result (the response payload), and Lambda never copies a function's
/// result into its log, so stdout does not appear here. stderr lines go to
/// the observer as they arrive (for `tandem logs -f`); the whole log is kept
/// (its last 16 KiB) for `X-Amz-Log-Type: Tail`.
struct CommandLog {
    let function: String
    let requestID: InvocationID
    let observer: (any FunctionHostObserver)?
    private(set) var lines: [String] = []
    private var bytes = 0
    private var partial: [UInt8] = []
    private(set) var lastStderrLine: String?

    static let keptBytes = 16 * 1024

    init(function: String, requestID: InvocationID, observer: (any FunctionHostObserver)?) {
        self.function = function
        self.requestID = requestID
        self.observer = observer
    }

    mutating func start() {
        emit([LambdaLogFormat.start(requestID)])
    }

    /// A chunk of the process's stderr.
    mutating func stderr(_ chunk: [UInt8]) {
        partial += chunk
        var complete: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            complete.append(String(decoding: partial[..<newline], as: UTF8.self))
            partial.removeSubrange(...newline)
        }
        // A process that writes a huge line without a newline: cut it.
        if partial.count > Self.keptBytes {
            complete.append(String(decoding: partial, as: UTF8.self))
            partial.removeAll()
        }
        noteLast(complete)
        if !complete.isEmpty { emit(complete) }
    }

    /// The last stderr line, the note Lambda writes for a failure, END and
    /// REPORT. Returns the whole kept log.
    /// - Parameter claimed: the caller records the report itself: it does not
    ///   go to the observer.
    mutating func finish(note: String?, report: InvocationReport?, claimed: Bool = false) -> String {
        var closing: [String] = []
        if !partial.isEmpty {
            let line = String(decoding: partial, as: UTF8.self)
            partial.removeAll()
            noteLast([line])
            closing.append(line)
        }
        if let note { closing.append(note) }
        closing.append(LambdaLogFormat.end(requestID))
        if let report { closing.append(LambdaLogFormat.report(report)) }
        emit(closing)
        if let report, !claimed { observer?.invocationReported(report) }
        return lines.joined(separator: "\n") + "\n"
    }

    private mutating func noteLast(_ complete: [String]) {
        if let last = complete.last(where: { !$0.allSatisfy(\.isWhitespace) }) {
            lastStderrLine = CommandOutcome.lastLine(of: last)
        }
    }

    private mutating func emit(_ new: [String]) {
        for line in new {
            lines.append(line)
            bytes += line.utf8.count + 1
        }
        while bytes > Self.keptBytes, lines.count > 1 {
            bytes -= lines.removeFirst().utf8.count + 1
        }
        let now = Date()
        observer?.functionLog(function, lines: new.map { LogLine($0, time: now) })
    }
}
