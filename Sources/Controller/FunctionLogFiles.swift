import Foundation
import FunctionMode
import Synchronization

/// Keeps each function's log in `.tandem/logs/NAME.log` — across controller
/// restarts and environment reaping — one line per line of output, stamped
/// with the time it was written, and hands each invocation's report on.
public final class FunctionLogFiles: FunctionHostObserver {
    private let directory: StateDirectory
    private let handles = Mutex<[String: FileHandle]>([:])
    private let onReports: @Sendable ([InvocationReport]) -> Void

    /// - Parameter onReports: called with each batch of invocation reports.
    public init(directory: StateDirectory, onReports: @escaping @Sendable ([InvocationReport]) -> Void = { _ in }) {
        self.directory = directory
        self.onReports = onReports
    }

    public func functionLog(_ function: String, lines: [LogLine]) {
        var text = ""
        var stamped: (time: Date, text: String)?
        for line in lines {
            // Lines of one batch mostly share their millisecond: format it once.
            let stamp: String
            if let stamped, stamped.time == line.time {
                stamp = stamped.text
            } else {
                stamp = Self.timestamp(line.time)
                stamped = (line.time, stamp)
            }
            text += "\(stamp) \(line.text)\n"
        }
        handles.withLock { handles in
            guard let handle = handles[function] ?? open(function) else { return }
            handles[function] = handle
            handle.write(Data(text.utf8))
        }
    }

    public func invocationReported(_ report: InvocationReport) {
        onReports([report])
    }

    public func invocationsReported(_ reports: [InvocationReport]) {
        if !reports.isEmpty { onReports(reports) }
    }

    /// Closes every file.
    public func close() {
        handles.withLock { handles in
            for handle in handles.values { try? handle.close() }
            handles = [:]
        }
    }

    private func open(_ function: String) -> FileHandle? {
        let url = directory.logFile(function)
        try? FileManager.default.createDirectory(
            at: directory.logs, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Private whatever the umask: a function's output is its owner's.
        guard (try? StateDirectory.createPrivateFile(url.path)) != nil else { return nil }
        guard let handle = try? FileHandle(forWritingTo: url) else { return nil }
        _ = try? handle.seekToEnd()
        return handle
    }

    /// `2026-11-24T23:59:01.123Z` (formatted by hand: a date formatter per
    /// line would cost more than the rest of the invocation's bookkeeping).
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let fraction = Int(milliseconds % 1000)
        let millis = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)Z"
    }
}
