import NIOCore

/// How one invocation ended, as the Invoke API reports it.
public enum InvocationOutcome: Sendable {
    /// The function returned a result.
    case response(ByteBuffer)
    /// The runtime reported an error for the invocation (`/invocation/{id}/error`).
    case functionError(RuntimeErrorReport)
    /// The invocation ended without a result from the function: timeout, the
    /// runtime exited, init failed, no environment could be started.
    case failed(InvocationFailure)
    /// Refused before it started (429 and friends).
    case rejected(Rejection)
    /// The function posted more than Lambda's 6 MB response limit.
    case responseTooLarge(bytes: Int)
}

/// One invocation's outcome and its measurements.
public struct InvocationResult: Sendable {
    public var requestID: InvocationID
    public var function: String
    public var outcome: InvocationOutcome
    /// The environment that handled it, if one did.
    public var environment: EnvironmentID?
    /// From delivery to the runtime until its answer (Lambda's Duration).
    public var duration: Duration?
    /// Set on a cold start: from container start to the runtime's first `/next`.
    public var initDuration: Duration?
    /// From arrival at the controller to the end, including any cold start.
    public var totalDuration: Duration
    public var memorySizeMiB: Int
    /// The invocation's log as Lambda writes it (`START …`, the function's own
    /// output, `END …`, `REPORT …`), when the host captured it.
    public var log: String?
    /// For an http function: its HTTP answer (status, headers, body).
    public var httpResponse: ForwardedResponse?
    /// The invocation's report (its ledger row's figures), when the caller
    /// claimed it: it then goes to the caller instead of the observer, so the
    /// caller can record it with its own state change in one transaction.
    public var report: InvocationReport?

    /// Lambda's error document for outcomes that are errors, with the
    /// `errorType` Lambda uses; nil for a result.
    public var errorDocument: (errorType: String, body: String)? {
        switch outcome {
        case .response, .rejected:
            return nil
        case .functionError(let report):
            let body = report.body.isEmpty
                ? ErrorDocument.json(errorType: report.errorType, errorMessage: report.errorMessage)
                : String(decoding: report.body, as: UTF8.self)
            return (report.errorType, body)
        case .responseTooLarge(let bytes):
            return ("Function.ResponseSizeTooLarge", ErrorDocument.json(
                errorType: "Function.ResponseSizeTooLarge",
                errorMessage: "Response payload size (\(bytes) bytes) exceeded maximum allowed payload size (\(RuntimeAPI.maxPayloadBytes) bytes)."))
        case .failed(let failure):
            let (type, message) = Self.describe(failure, requestID: requestID)
            return (type, ErrorDocument.json(errorType: type, errorMessage: message))
        }
    }

    /// An invocation refused before any runner took it (e.g. no such function).
    public static func rejected(_ function: String, _ rejection: Rejection, arrivedAt: ContinuousClock.Instant) -> Self {
        InvocationResult(
            requestID: InvocationID(Identifiers.requestID()), function: function, outcome: .rejected(rejection),
            environment: nil, duration: nil, initDuration: nil, totalDuration: ContinuousClock.now - arrivedAt,
            memorySizeMiB: 0)
    }

    static func describe(_ failure: InvocationFailure, requestID: InvocationID) -> (String, String) {
        switch failure {
        case .timedOut(let after):
            return ("Sandbox.Timedout", "\(requestID) Task timed out after \(after.formattedSeconds) seconds")
        case .runtimeExited(let code, let outOfMemory):
            if outOfMemory {
                return ("Runtime.OutOfMemory", "RequestId: \(requestID) Error: Runtime exited with error: signal: killed (out of memory)")
            }
            let status = code > 128 ? "signal: \(Self.signalName(code - 128))" : "exit status \(code)"
            return ("Runtime.ExitError", "RequestId: \(requestID) Error: Runtime exited with error: \(status)")
        case .runtimeVanished:
            return ("Runtime.ExitError", "RequestId: \(requestID) Error: the runtime's connection closed before it took the invocation")
        case .initFailed(let type, let message):
            return (type.isEmpty ? "Runtime.InitError" : type, message)
        case .environmentUnavailable(let message):
            return ("Runtime.Unavailable", "the execution environment could not be started: \(message)")
        case .shuttingDown:
            return ("Runtime.ShuttingDown", "tandem is shutting down")
        }
    }

    static func signalName(_ number: Int) -> String {
        switch number {
        case 9: "killed"
        case 15: "terminated"
        case 11: "segmentation fault"
        case 6: "aborted"
        case 2: "interrupt"
        default: "signal \(number)"
        }
    }
}

/// An HTTP request as tandem forwards it to an http-contract function.
public struct ForwardedRequest: Sendable, Equatable {
    public var method: String
    /// Path and query, starting with `/`.
    public var path: String
    public var headers: [Header]
    public var body: [UInt8]

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(method: String, path: String, headers: [Header] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// An http-contract function's answer.
public struct ForwardedResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
