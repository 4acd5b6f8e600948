/// What went wrong talking to the Runtime API, or setting up the runtime.
///
/// One error type for the whole library: a `code` to match on, a message for
/// people, and the underlying cause when there is one.
public struct LambdaRuntimeError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. Extensible: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `AWS_LAMBDA_RUNTIME_API` is not set.
        public static let missingEndpoint = Code("missingEndpoint")
        /// `AWS_LAMBDA_RUNTIME_API` is not `host:port`.
        public static let invalidEndpoint = Code("invalidEndpoint")
        /// The host name did not resolve, or no address accepted a connection.
        public static let connectionFailed = Code("connectionFailed")
        /// The peer closed or reset the connection.
        public static let connectionClosed = Code("connectionClosed")
        /// A socket call failed.
        public static let io = Code("io")
        /// The response is not valid HTTP/1.1.
        public static let malformedResponse = Code("malformedResponse")
        /// The connection ended before the response did.
        public static let truncatedResponse = Code("truncatedResponse")
        /// The Runtime API answered with a status the runtime cannot go on after.
        public static let unexpectedStatus = Code("unexpectedStatus")
        /// The `/next` response lacks a header every invocation carries.
        public static let missingHeader = Code("missingHeader")
        /// The handler's initializer threw (reported to `/runtime/init/error`).
        public static let initializationFailed = Code("initializationFailed")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying {
            return "\(code): \(message) (\(underlying))"
        }
        return "\(code): \(message)"
    }
}
