import NIOCore

/// An error of the Lambda Invoke API as AWS sends it: an HTTP status, the
/// exception name in `x-amzn-ErrorType`, and a JSON body with `Type` and a
/// message (botocore's rest-json parser reads both).
///
/// The message key follows AWS's service model per exception: some use
/// `Message`, some `message`; throttling adds `Reason`.
public struct LambdaAPIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// HTTP status code.
    public var status: Int
    /// The exception name (`ResourceNotFoundException`), sent in `x-amzn-ErrorType`.
    public var errorType: String
    public var message: String
    /// `User` for the caller's mistakes, `Service` for tandem's own failures.
    public var faultType: String
    /// `TooManyRequestsException`'s `Reason`.
    public var reason: String?
    /// The body's message key as AWS's model spells it for this exception.
    public var messageKey: String

    public init(status: Int, errorType: String, message: String, faultType: String = "User",
                reason: String? = nil, messageKey: String = "message") {
        self.status = status
        self.errorType = errorType
        self.message = message
        self.faultType = faultType
        self.reason = reason
        self.messageKey = messageKey
    }

    public var description: String { "\(errorType) (\(status)): \(message)" }

    /// The JSON body: `{"Reason":…,"Type":…,"message":…}` (Reason only when set).
    public var body: ByteBuffer {
        var writer = JSONWriter(capacity: message.utf8.count + 96)
        writer.beginObject()
        if let reason { writer.field("Reason", reason) }
        writer.field("Type", faultType)
        writer.field(messageKey, message)
        writer.endObject()
        return writer.buffer
    }

    // MARK: The errors of the Invoke API

    /// 404: no such function (or a qualifier other than `$LATEST`).
    public static func functionNotFound(arn: String) -> Self {
        Self(status: 404, errorType: "ResourceNotFoundException", message: "Function not found: \(arn)",
             messageKey: "Message")
    }

    /// 413: the payload is over the limit of its invocation type.
    public static func requestTooLarge(limit: Int) -> Self {
        Self(status: 413, errorType: "RequestTooLargeException",
             message: "Request must be smaller than \(limit) bytes for the InvokeFunction operation")
    }

    /// 400: the payload (or the client context) is not what Lambda accepts.
    public static func invalidRequestContent(_ message: String) -> Self {
        Self(status: 400, errorType: "InvalidRequestContentException", message: message)
    }

    /// 400: a parameter has a value Lambda does not accept.
    public static func invalidParameterValue(_ message: String) -> Self {
        Self(status: 400, errorType: "InvalidParameterValueException", message: message)
    }

    /// 400: a parameter fails the API's own constraints (pattern, length).
    public static func validation(_ message: String) -> Self {
        Self(status: 400, errorType: "ValidationException", message: message)
    }

    /// 429 `TooManyRequestsException` with Lambda's reason and its message "Rate Exceeded.".
    public static func tooManyRequests(reason: String) -> Self {
        Self(status: 429, errorType: "TooManyRequestsException", message: "Rate Exceeded.", reason: reason)
    }

    /// 502: the execution environment could not be made ready. AWS's model
    /// has `ResourceNotReadyException` (502) for a function whose environment
    /// is not available; tandem uses it when the engine cannot start one.
    public static func resourceNotReady(_ message: String) -> Self {
        Self(status: 502, errorType: "ResourceNotReadyException", message: message, faultType: "Service")
    }

    /// 500 (or 503 while shutting down): tandem's own failure.
    public static func service(_ message: String, status: Int = 500) -> Self {
        Self(status: status, errorType: "ServiceException", message: message, faultType: "Service",
             messageKey: "Message")
    }

    /// 404: a path under the Lambda API that tandem does not serve.
    public static func unknownOperation(method: String, path: String) -> Self {
        Self(status: 404, errorType: "UnknownOperationException",
             message: "tandem serves only Invoke (POST /2015-03-31/functions/{name}/invocations), not \(method) \(path)")
    }

    // MARK: Refusals of the connection itself (any path)

    /// 400: the request could not be parsed (a head over the size limit, a bad request line).
    public static func malformedRequest(_ message: String) -> Self {
        Self(status: 400, errorType: "BadRequestException", message: message)
    }

    /// 405: a method the gateway never serves (`CONNECT`: it is no proxy).
    public static func methodNotAllowed(_ method: String) -> Self {
        Self(status: 405, errorType: "MethodNotAllowedException",
             message: "tandem's gateway does not serve \(method) requests (it is not a proxy)")
    }

    /// 408: the request head did not arrive in time.
    public static func requestTimeout(_ message: String) -> Self {
        Self(status: 408, errorType: "RequestTimeoutException", message: message)
    }
}
