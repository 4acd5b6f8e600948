import NIOCore

/// Paths, headers and limits of the AWS Lambda Runtime API (2018-06-01).
public enum RuntimeAPI {
    public static let version = "2018-06-01"
    public static let prefix = "/2018-06-01/runtime/"
    /// Largest response or error a runtime may post, as Lambda enforces it
    /// (6 MiB plus 100 bytes of slack: 6,291,556 bytes).
    public static let maxPayloadBytes = 6 * 1024 * 1024 + 100

    public enum Header {
        public static let requestID = "Lambda-Runtime-Aws-Request-Id"
        public static let deadline = "Lambda-Runtime-Deadline-Ms"
        public static let functionArn = "Lambda-Runtime-Invoked-Function-Arn"
        public static let traceID = "Lambda-Runtime-Trace-Id"
        public static let clientContext = "Lambda-Runtime-Client-Context"
        public static let cognitoIdentity = "Lambda-Runtime-Cognito-Identity"
        public static let functionErrorType = "Lambda-Runtime-Function-Error-Type"
    }
}

/// One invocation as a runtime receives it from `GET /next`.
public struct NextEvent: Sendable {
    public var requestID: String
    /// When the invocation times out, in milliseconds since the epoch.
    public var deadlineEpochMilliseconds: Int64
    public var functionArn: String
    public var traceID: String
    public var clientContext: String?
    public var cognitoIdentity: String?
    public var payload: ByteBuffer

    public init(requestID: String, deadlineEpochMilliseconds: Int64, functionArn: String, traceID: String,
                clientContext: String? = nil, cognitoIdentity: String? = nil, payload: ByteBuffer) {
        self.requestID = requestID
        self.deadlineEpochMilliseconds = deadlineEpochMilliseconds
        self.functionArn = functionArn
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.payload = payload
    }
}

/// An error a runtime reports (`/invocation/{id}/error` or `/init/error`).
public struct RuntimeErrorReport: Sendable, Equatable {
    /// `Lambda-Runtime-Function-Error-Type`, or the body's `errorType`.
    public var errorType: String
    /// The body's `errorMessage`, when the body is Lambda's error document.
    public var errorMessage: String
    /// The body as posted (Lambda's error document, or whatever the runtime sent).
    public var body: [UInt8]

    public init(errorType: String, errorMessage: String, body: [UInt8]) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.body = body
    }
}

/// What the Runtime API server asks of function mode, per environment.
public protocol RuntimeAPIDelegate: AnyObject, Sendable {
    /// The runtime waits for work; answer through `waiter` whenever work comes.
    func runtimeRequestedNext(_ env: EnvironmentID, waiter: NextWaiter)
    /// The connection of a parked `/next` closed before it was answered.
    func runtimeAbandonedNext(_ env: EnvironmentID, waiter: NextWaiter)
    /// The runtime posts the result of `requestID`.
    func runtimeResponded(_ env: EnvironmentID, requestID: String, body: ByteBuffer) -> RuntimeCallVerdict
    /// The runtime posts an error for `requestID`.
    func runtimeReportedError(_ env: EnvironmentID, requestID: String, error: RuntimeErrorReport) -> RuntimeCallVerdict
    /// The runtime could not initialise.
    func runtimeReportedInitError(_ env: EnvironmentID, error: RuntimeErrorReport) -> RuntimeCallVerdict
    /// A response or error was over the 6 MB limit for `requestID`.
    func runtimeSentTooMuch(_ env: EnvironmentID, requestID: String, bytes: Int)
    /// A connection from an address other than the environment's own was closed unread.
    func runtimeRefusedConnection(_ env: EnvironmentID, from address: String)
}

extension RuntimeAPIDelegate {
    public func runtimeRefusedConnection(_ env: EnvironmentID, from address: String) {}
}
