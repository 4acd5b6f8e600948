import FunctionMode
import Synchronization

/// Turns what replicas and task runs print (chunks that may split a line)
/// into whole lines in the workload's log file, each marked with its
/// source (`web-0.1 | …`, `run 1f3a9c2e | …`), so `tandem logs NAME -f`
/// merges them and keeps them across restarts.
final class OutputLogLines: Sendable {
    private let files: FunctionLogFiles
    /// The unfinished last line of each source.
    private let partial = Mutex<[String: [UInt8]]>([:])
    /// A line longer than this is written in pieces.
    static let longestLine = 64 * 1024

    init(files: FunctionLogFiles) { self.files = files }

    func append(_ workload: String, source: String, _ bytes: [UInt8]) {
        let lines = partial.withLock { partial -> [String] in
            var pending = partial[source, default: []] + bytes
            var lines: [String] = []
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            if pending.count > Self.longestLine {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending = []
            }
            partial[source] = pending.isEmpty ? nil : pending
            return lines
        }
        guard !lines.isEmpty else { return }
        files.functionLog(workload, lines: lines.map { LogLine("\(source) | \($0)") })
    }
}
