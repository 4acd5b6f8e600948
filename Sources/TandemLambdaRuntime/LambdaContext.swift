#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the Runtime API tells the function about one invocation, plus the
/// function's own settings from the environment.
public struct LambdaContext: Sendable, Equatable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public var requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: when the invocation times out, in
    /// milliseconds since the Unix epoch.
    public var deadlineMilliseconds: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public var invokedFunctionARN: String
    /// `Lambda-Runtime-Trace-Id` (also exported as `_X_AMZN_TRACE_ID`).
    public var traceID: String?
    /// `Lambda-Runtime-Client-Context`, as sent (JSON), for mobile SDK calls.
    public var clientContext: String?
    /// `Lambda-Runtime-Cognito-Identity`, as sent (JSON).
    public var cognitoIdentity: String?

    public init(
        requestID: String,
        deadlineMilliseconds: Int64,
        invokedFunctionARN: String = "",
        traceID: String? = nil,
        clientContext: String? = nil,
        cognitoIdentity: String? = nil
    ) {
        self.requestID = requestID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
    }

    /// Time left before the deadline (negative once it has passed).
    public var remainingTime: Duration {
        .milliseconds(deadlineMilliseconds - Self.nowMilliseconds())
    }

    /// `AWS_LAMBDA_FUNCTION_NAME`.
    public var functionName: String { Self.environment("AWS_LAMBDA_FUNCTION_NAME") ?? "" }
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    public var functionVersion: String { Self.environment("AWS_LAMBDA_FUNCTION_VERSION") ?? "" }
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    public var memoryLimitInMB: Int? { Self.environment("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").flatMap { Int($0) } }
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    public var logGroupName: String { Self.environment("AWS_LAMBDA_LOG_GROUP_NAME") ?? "" }
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    public var logStreamName: String { Self.environment("AWS_LAMBDA_LOG_STREAM_NAME") ?? "" }

    /// Wall-clock time in milliseconds since the Unix epoch (the deadline's clock).
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
