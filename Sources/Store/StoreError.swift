/// The one error the store throws: which operation failed, a code, a message and,
/// when SQLite or GRDB refused, the underlying error.
///
/// Task cancellation is not wrapped: a cancelled call throws `CancellationError`.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Extensible: new codes are new static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// SQLite or GRDB refused (I/O, constraint, corrupt file, ...): see `underlying`.
        public static let database = Code("database")
        /// The caller passed a value the store cannot accept (see `message`).
        public static let invalidArgument = Code("invalid argument")
    }

    public let code: Code
    /// The store operation that failed, e.g. `"lease"`, `"open"`.
    public let operation: String
    public let message: String
    public let underlying: (any Error)?

    public init(_ code: Code, operation: String, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.operation = operation
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        var text = "store \(operation): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    static func invalid(_ operation: String, _ message: String) -> StoreError {
        StoreError(.invalidArgument, operation: operation, message: message)
    }
}
