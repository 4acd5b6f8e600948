import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a controller keeps its state: `./.tandem/` by default — the control
/// socket, the SQLite database and the function logs, which outlive the
/// controller and its environments.
///
/// It is private to the user who runs the controller, whatever the umask: the
/// folders are 0700 and every file in them 0600 (the logs hold every function's
/// output, the database the ledger and the queued events, and the control
/// socket lets whoever can connect invoke functions and stop the controller).
public struct StateDirectory: Sendable {
    public let root: URL

    public init(_ path: String = ".tandem") {
        root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    public var controlSocket: String { root.appendingPathComponent("tandem.sock").path }
    public var database: String { root.appendingPathComponent("tandem.sqlite").path }
    public var logs: URL { root.appendingPathComponent("logs", isDirectory: true) }
    /// Held (`flock`) by the controller running here, for as long as it runs.
    public var lockFile: String { root.appendingPathComponent("controller.lock").path }

    /// The log file of one workload.
    public func logFile(_ workload: String) -> URL { logs.appendingPathComponent("\(workload).log") }

    /// Creates the folders (0700), and makes what an earlier run left private
    /// too (folders 0700, files 0600).
    public func create() throws {
        for folder in [root, logs] {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Self.restrict(folder.path, to: 0o700)
        }
        for folder in [root, logs] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names {
                let path = folder.appendingPathComponent(name).path
                var status = stat()
                guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
                try Self.restrict(path, to: 0o600)
            }
        }
    }

    /// Creates the database file 0600 before SQLite opens it (SQLite gives its
    /// `-wal` and `-shm` files the database file's mode).
    public func createDatabaseFile() throws {
        try Self.createPrivateFile(database)
    }

    /// Creates `path` (0600) if it does not exist, and makes it 0600 if it does.
    public static func createPrivateFile(_ path: String) throws {
        let descriptor = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StateDirectoryError(operation: "create", path: path, errno: errno) }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw StateDirectoryError(operation: "chmod", path: path, errno: errno) }
    }

    /// `chmod` that says which file it could not change.
    public static func restrict(_ path: String, to mode: mode_t) throws {
        guard chmod(path, mode) == 0 else { throw StateDirectoryError(operation: "chmod", path: path, errno: errno) }
    }
}

/// A state file or folder that could not be created or made private.
public struct StateDirectoryError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public var description: String { "cannot \(operation) \(path): \(String(cString: strerror(errno)))" }
}
