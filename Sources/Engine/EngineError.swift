import Foundation

/// Everything the engine client throws: what kind of failure, which operation,
/// the HTTP status, the engine's own message and the underlying cause.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; extensible like a string enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Nothing answers on the engine's socket.
        public static let unreachable = Code("unreachable")
        /// 404: no such container, image, network, exec.
        public static let notFound = Code("notFound")
        /// 409 (or Podman's 500 with a conflict message): name in use, not running, already paused, …
        public static let conflict = Code("conflict")
        /// 400 and other 4xx: the engine refused the request (bad limit, bad name, …).
        public static let badRequest = Code("badRequest")
        /// 304: already started / already stopped.
        public static let notModified = Code("notModified")
        /// 5xx: the engine failed.
        public static let server = Code("server")
        /// curl failed mid-transfer (see ``EngineError/curlCode``).
        public static let transport = Code("transport")
        /// The response could not be understood.
        public static let decoding = Code("decoding")
        /// An image build reported an error (message is the engine's).
        public static let buildFailed = Code("buildFailed")
        /// The caller passed something that cannot be sent (e.g. a context folder that does not exist).
        public static let invalidArgument = Code("invalidArgument")
        /// The task was cancelled.
        public static let cancelled = Code("cancelled")
        /// The request hit its time limit.
        public static let timeout = Code("timeout")
        /// The engine endpoint is one tandem cannot speak to (`DOCKER_HOST=tcp://…`).
        public static let unsupportedEndpoint = Code("unsupportedEndpoint")
    }

    public var code: Code
    /// The operation as route, e.g. `POST /containers/create`.
    public var operation: String
    /// The HTTP status, when the engine answered.
    public var status: Int?
    /// The engine's own message, or ours when the engine said nothing.
    public var message: String
    /// The curl code for transport failures.
    public var curlCode: Int?
    public var underlying: (any Error)?

    public init(
        _ code: Code, operation: String, status: Int? = nil, message: String,
        curlCode: Int? = nil, underlying: (any Error)? = nil
    ) {
        self.code = code
        self.operation = operation
        self.status = status
        self.message = message
        self.curlCode = curlCode
        self.underlying = underlying
    }

    public var description: String {
        if code == .unreachable || code == .unsupportedEndpoint { return message }
        var text = "\(operation): \(message)"
        if let status { text += " (HTTP \(status))" }
        return text
    }

    /// The engine's error body: `{"message": "..."}` (Podman adds `cause` and `response`).
    struct Body: Decodable {
        var message: String?
        var cause: String?
    }

    /// Maps an error response to a kind, keeping the engine's message.
    public static func from(status: Int, body: [UInt8], operation: String) -> EngineError {
        let parsed = try? JSONDecoder().decode(Body.self, from: Data(body))
        var message = parsed?.message ?? String(decoding: body, as: UTF8.self)
        message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if message.isEmpty { message = HTTPURLResponseStatus.text(status) }
        let code: Code
        switch status {
        case 304: code = .notModified
        case 404: code = .notFound
        case 409: code = .conflict
        case 400..<500: code = .badRequest
        case 500...:
            code = classifyServerMessage(message)
        default: code = .server
        }
        return EngineError(code, operation: operation, status: status, message: message)
    }

    /// Podman reports conflicts and some missing objects as 500: sort them by message.
    static func classifyServerMessage(_ message: String) -> Code {
        let m = message.lowercased()
        let conflicts = [
            "already in use", "is running", "is not running", "is already paused", "is not paused",
            "is paused", "cannot remove container", "container state improper", "is already stopped",
            "in state running", "image is in use", "image used by",
        ]
        if conflicts.contains(where: { m.contains($0) }) { return .conflict }
        if m.contains("no such container") || m.contains("no such image") || m.contains("no such exec")
            || m.contains("no such network") || m.contains("image not known")
        {
            return .notFound
        }
        return .server
    }

    /// The fixed message for an engine that does not answer.
    public static func unreachable(socket: String, operation: String, underlying: (any Error)?) -> EngineError {
        EngineError(
            .unreachable, operation: operation,
            message: "cannot reach the container engine at \(socket) — is it running? docker/start-engine.sh starts one",
            underlying: underlying)
    }
}

/// Reason phrases for statuses that come without a message.
enum HTTPURLResponseStatus {
    static func text(_ status: Int) -> String {
        switch status {
        case 304: return "not modified"
        case 400: return "bad request"
        case 404: return "not found"
        case 409: return "conflict"
        case 500: return "server error"
        default: return "HTTP status \(status)"
        }
    }
}
