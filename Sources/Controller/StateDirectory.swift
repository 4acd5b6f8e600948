import Foundation

/// Where a controller keeps its state: `./.tandem/` by default — the control
/// socket, the SQLite database and the function logs, which outlive the
/// controller and its environments.
public struct StateDirectory: Sendable {
    public let root: URL

    public init(_ path: String = ".tandem") {
        root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    public var controlSocket: String { root.appendingPathComponent("tandem.sock").path }
    public var database: String { root.appendingPathComponent("tandem.sqlite").path }
    public var logs: URL { root.appendingPathComponent("logs", isDirectory: true) }

    /// The log file of one workload.
    public func logFile(_ workload: String) -> URL { logs.appendingPathComponent("\(workload).log") }

    public func create() throws {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
    }
}
