/// An error of the controller or of its client: what went wrong (``code``), one
/// clear line for the operator (``message``, also ``description``: the CLI
/// prints it), and the error that caused it, when there was one.
public struct ControllerError: Error, CustomStringConvertible {
    /// What kind of failure this is; extensible (new codes are static members).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The manifest could not be read or is not valid.
        public static let manifestInvalid = Code("manifestInvalid")
        /// The engine does not answer on its socket (or `DOCKER_HOST` is refused).
        public static let engineUnreachable = Code("engineUnreachable")
        /// The engine answered, but an operation it needs failed.
        public static let engineFailed = Code("engineFailed")
        /// Another controller holds this folder's lock.
        public static let alreadyRunning = Code("alreadyRunning")
        /// The gateway's address is in use or cannot be listened on.
        public static let gatewayAddressInUse = Code("gatewayAddressInUse")
        /// The manifest's routes or gateway settings cannot be served.
        public static let gatewayUnavailable = Code("gatewayUnavailable")
        /// A workload's image is not on this machine.
        public static let imageMissing = Code("imageMissing")
        /// A workload's image could not be built.
        public static let buildFailed = Code("buildFailed")
        /// Something the manifest asks for that this version does not do.
        public static let unsupported = Code("unsupported")
        /// The state folder or its database cannot be prepared or opened.
        public static let stateUnavailable = Code("stateUnavailable")
        /// No function of that name runs here.
        public static let unknownFunction = Code("unknownFunction")
        /// No controller runs here: no control socket, or nothing answers on it.
        public static let noController = Code("noController")
        /// The controller answered, with an error (see ``ControlRefusal``).
        public static let refused = Code("refused")
        /// The connection to the controller broke before its answer was complete.
        public static let connectionLost = Code("connectionLost")
        /// The controller's answer could not be read.
        public static let unreadableAnswer = Code("unreadableAnswer")
    }

    public let code: Code
    public let message: String
    /// The error this one wraps, if any (its text is usually part of ``message``).
    public let underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    /// The controller's own answer, for a ``Code/refused`` error.
    public var refusal: ControlRefusal? { underlying as? ControlRefusal }
}

/// The controller's answer to a request it refused: an HTTP status other than
/// 2xx and the body it sent (its message to the operator).
public struct ControlRefusal: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }

    public var description: String {
        body.isEmpty ? "the controller answered HTTP \(status)" : body
    }
}
