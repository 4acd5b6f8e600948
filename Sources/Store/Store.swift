import Foundation
import GRDB

/// tandem's durable state in SQLite: the invocation ledger, the asynchronous event queue
/// with its dead letters, and the placement history.
///
/// A file store is a GRDB `DatabasePool` in WAL mode: reads run concurrently on snapshots,
/// writes are serialised on one connection, so every write operation here is atomic with
/// respect to every other. All methods are safe to call from any task.
///
/// Times are `Int64` milliseconds since the Unix epoch, always passed in by the caller
/// (`now:`), so there is no hidden clock; intervals are `Duration`s.
public final class Store: Sendable {
    /// How hard a commit waits for the disk.
    public enum Durability: Sendable, Hashable {
        /// `PRAGMA synchronous = FULL`: a commit survives power loss (the WAL is fsynced on
        /// every commit). The default: an accepted event must not be lost.
        case full
        /// `PRAGMA synchronous = NORMAL`: a commit survives a crash of the process but the
        /// last commits may roll back on power loss. Faster.
        case normal
    }

    /// The database file name under the state folder.
    public static let fileName = "tandem.sqlite"

    /// `<projectDirectory>/.tandem/tandem.sqlite`.
    public static func defaultPath(projectDirectory: String = ".") -> String {
        URL(fileURLWithPath: projectDirectory).appendingPathComponent(".tandem")
            .appendingPathComponent(fileName).path
    }

    let writer: any DatabaseWriter
    let ledger: LedgerGroupCommit
    /// The database file, or `nil` for an in-memory store.
    public let path: String?

    private init(writer: any DatabaseWriter, path: String?, durability: Durability = .full) {
        self.writer = writer
        self.ledger = LedgerGroupCommit(writer: writer, restoreSynchronous: durability == .full ? "FULL" : nil)
        self.path = path
    }

    /// Opens (creating the folder and the file if needed) the database at `path` in WAL mode
    /// and applies the migrations it has not seen yet.
    public static func open(path: String, durability: Durability = .full) throws -> Store {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.database, operation: "open", message: "cannot create folder \(folder)",
                             underlying: error)
        }
        var configuration = Self.configuration()
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.database, operation: "open", message: "cannot open \(path)", underlying: error)
        }
        // GRDB's pool sets `synchronous = NORMAL` on its writer when it turns
        // WAL on, after `prepareDatabase`: set the chosen durability again.
        do {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        } catch {
            throw StoreError(.database, operation: "open", message: "cannot set synchronous = \(synchronous) on \(path)",
                             underlying: error)
        }
        try migrate(pool)
        return Store(writer: pool, path: path, durability: durability)
    }

    /// A private in-memory database with the same schema, for tests.
    public static func inMemory() throws -> Store {
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(configuration: configuration())
        } catch {
            throw StoreError(.database, operation: "open", message: "cannot open an in-memory database",
                             underlying: error)
        }
        try migrate(queue)
        return Store(writer: queue, path: nil)
    }

    /// Closes the database. Later calls fail; closing twice does nothing.
    public func close() throws {
        do {
            if let pool = writer as? DatabasePool {
                try pool.close()
            } else if let queue = writer as? DatabaseQueue {
                try queue.close()
            }
        } catch {
            throw StoreError(.database, operation: "close", message: "cannot close the database",
                             underlying: error)
        }
    }

    /// The names of the migrations applied to this database, in order.
    public func appliedMigrations() async throws -> [String] {
        try await read("applied migrations") { db in try Self.migrator.appliedMigrations(db) }
    }

    // MARK: - Internals

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "tandem.store"
        // Another process (a second controller by mistake, sqlite3) may hold the lock briefly.
        configuration.busyMode = .timeout(5)
        return configuration
    }

    private static func migrate(_ writer: any DatabaseWriter) throws {
        do {
            try migrator.migrate(writer)
        } catch {
            throw StoreError(.database, operation: "migrate", message: "cannot apply the migrations",
                             underlying: error)
        }
    }

    /// Runs `body` in a write transaction, wrapping failures in `StoreError`.
    func write<T: Sendable>(
        _ operation: String, _ body: @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as StoreError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw StoreError(.database, operation: operation, message: "the write failed", underlying: error)
        }
    }

    /// Runs `body` on a read-only snapshot, wrapping failures in `StoreError`.
    func read<T: Sendable>(
        _ operation: String, _ body: @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await writer.read(body)
        } catch let error as StoreError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw StoreError(.database, operation: operation, message: "the read failed", underlying: error)
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (sub-millisecond parts are dropped).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
