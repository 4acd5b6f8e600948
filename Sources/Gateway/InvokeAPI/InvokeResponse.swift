import Foundation
import FunctionMode
import HTTPTypes
import NIOCore

/// An Invoke API answer: status, headers and body, built without a server.
public struct InvokeResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// What Lambda answers for a synchronous invocation's outcome:
    ///
    /// | outcome | status | notes |
    /// | --- | --- | --- |
    /// | `.response` | 200 | the body as the function returned it |
    /// | `.functionError`, `.failed(timedOut/runtimeExited/initFailed)`, `.responseTooLarge` | 200 | `X-Amz-Function-Error: Unhandled`, Lambda's error document |
    /// | `.failed(.environmentUnavailable)` | 502 | `ResourceNotReadyException` |
    /// | `.failed(.shuttingDown)` | 503 | `ServiceException` |
    /// | `.rejected(.reservedConcurrencyExceeded / .throttled)` | 429 | `TooManyRequestsException`, `ReservedFunctionConcurrentInvocationLimitExceeded` |
    /// | `.rejected(.globalConcurrencyExceeded)` | 429 | `TooManyRequestsException`, `ConcurrentInvocationLimitExceeded` |
    /// | `.rejected(.unknownFunction)` | 404 | `ResourceNotFoundException` |
    ///
    /// With `logType == .tail`, a 200 carries the last 4 KB of the log, base64,
    /// in `X-Amz-Log-Result` (when the host captured a log).
    public static func make(result: InvocationResult, logType: LogType, account: LambdaAccount = LambdaAccount()) -> InvokeResponse {
        let requestID = result.requestID.rawValue
        let body: ByteBuffer
        var functionError = false
        switch result.outcome {
        case .response(let buffer):
            body = buffer
        case .functionError, .responseTooLarge,
             .failed(.timedOut), .failed(.runtimeExited), .failed(.runtimeVanished), .failed(.initFailed):
            functionError = true
            body = ByteBuffer(string: result.errorDocument?.body ?? "{}")
        case .failed(.environmentUnavailable(let message)):
            return error(.resourceNotReady("The function's execution environment could not be started: \(message)"),
                         requestID: requestID)
        case .failed(.shuttingDown):
            return error(.service("tandem is shutting down; retry against the next controller.", status: 503),
                         requestID: requestID)
        case .rejected(.reservedConcurrencyExceeded), .rejected(.throttled):
            return error(.tooManyRequests(reason: "ReservedFunctionConcurrentInvocationLimitExceeded"), requestID: requestID)
        case .rejected(.globalConcurrencyExceeded):
            return error(.tooManyRequests(reason: "ConcurrentInvocationLimitExceeded"), requestID: requestID)
        case .rejected(.unknownFunction):
            return error(.functionNotFound(arn: account.functionARN(result.function)), requestID: requestID)
        }
        var headers = HTTPFields()
        headers.reserveCapacity(6)
        headers[.contentType] = "application/json"
        headers[LambdaInvokeAPI.Header.requestID] = requestID
        headers[LambdaInvokeAPI.Header.executedVersion] = LambdaInvokeAPI.latest
        if functionError { headers[LambdaInvokeAPI.Header.functionError] = "Unhandled" }
        if logType == .tail, let log = result.log {
            headers[LambdaInvokeAPI.Header.logResult] = logTail(log)
        }
        return InvokeResponse(status: .ok, headers: headers, body: body)
    }

    /// 202 for an accepted `Event` invocation.
    public static func accepted(requestID: String) -> InvokeResponse {
        InvokeResponse(status: .accepted, headers: baseHeaders(requestID: requestID), body: ByteBuffer())
    }

    /// 204 for a `DryRun` of an existing function.
    public static func dryRun(requestID: String) -> InvokeResponse {
        InvokeResponse(status: .noContent, headers: baseHeaders(requestID: requestID), body: ByteBuffer())
    }

    /// An AWS JSON error: its status, `x-amzn-ErrorType`, and the body.
    public static func error(_ error: LambdaAPIError, requestID: String) -> InvokeResponse {
        var headers = baseHeaders(requestID: requestID)
        headers[LambdaInvokeAPI.Header.errorType] = error.errorType
        return InvokeResponse(status: HTTPResponse.Status(code: error.status), headers: headers, body: error.body)
    }

    /// Base64 of the last 4 KB (bytes, not characters) of a log.
    public static func logTail(_ log: String) -> String {
        Data(log.utf8.suffix(LambdaInvokeAPI.logTailBytes)).base64EncodedString()
    }

    static func baseHeaders(requestID: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[LambdaInvokeAPI.Header.requestID] = requestID
        return headers
    }
}
