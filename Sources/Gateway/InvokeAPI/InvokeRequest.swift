import Foundation
import HTTPTypes
import NIOCore

/// Paths, headers and limits of the Lambda Invoke API (2015-03-31).
public enum LambdaInvokeAPI {
    /// Every path of the Lambda API starts here; tandem serves only Invoke.
    public static let prefix = "/2015-03-31/"
    static let functionsPrefix = "/2015-03-31/functions/"
    static let invocationsSuffix = "/invocations"

    /// Largest synchronous payload (6 MB).
    public static let maxSyncPayloadBytes = 6_291_456
    /// Largest asynchronous (`Event`) payload (1 MB).
    public static let maxAsyncPayloadBytes = 1_048_576
    /// Largest `X-Amz-Client-Context` (base64 text).
    public static let maxClientContextBytes = 3583
    /// How much of the log `X-Amz-Log-Result` carries.
    public static let logTailBytes = 4096

    /// `$LATEST`, the only version tandem runs.
    public static let latest = "$LATEST"

    public enum Header {
        public static let invocationType = HTTPField.Name("X-Amz-Invocation-Type")!
        public static let logType = HTTPField.Name("X-Amz-Log-Type")!
        public static let clientContext = HTTPField.Name("X-Amz-Client-Context")!
        public static let requestID = HTTPField.Name("x-amzn-RequestId")!
        public static let errorType = HTTPField.Name("x-amzn-ErrorType")!
        public static let functionError = HTTPField.Name("X-Amz-Function-Error")!
        public static let logResult = HTTPField.Name("X-Amz-Log-Result")!
        public static let executedVersion = HTTPField.Name("X-Amz-Executed-Version")!
    }
}

/// `X-Amz-Invocation-Type`.
public enum InvocationType: String, Sendable, CaseIterable {
    /// Synchronous: 200 with the function's answer.
    case requestResponse = "RequestResponse"
    /// Asynchronous: queued, 202 at once.
    case event = "Event"
    /// Checks only: 204 when the function exists.
    case dryRun = "DryRun"

    /// Largest payload this type accepts.
    public var payloadLimit: Int {
        self == .event ? LambdaInvokeAPI.maxAsyncPayloadBytes : LambdaInvokeAPI.maxSyncPayloadBytes
    }
}

/// `X-Amz-Log-Type`.
public enum LogType: String, Sendable, CaseIterable {
    case none = "None"
    /// Return the last 4 KB of the log in `X-Amz-Log-Result`.
    case tail = "Tail"
}

/// One Invoke API call, checked the way Lambda checks it.
public struct InvokeRequest: Sendable {
    /// Everything but the payload: known before the body is read, so the
    /// server can enforce the right size limit while it reads.
    public struct Head: Sendable, Equatable {
        /// The function's plain name.
        public var functionName: String
        public var invocationType: InvocationType
        public var logType: LogType
        /// The decoded `X-Amz-Client-Context` (JSON text), for the runtime's
        /// `Lambda-Runtime-Client-Context`.
        public var clientContext: String?
    }

    public var head: Head
    /// The payload as sent (`{}` when the body was empty).
    public var payload: ByteBuffer

    public var functionName: String { head.functionName }
    public var invocationType: InvocationType { head.invocationType }
    public var logType: LogType { head.logType }
    public var clientContext: String? { head.clientContext }

    /// Checks a whole request: path, qualifier, headers, size and payload.
    /// - Parameters:
    ///   - path: the request path without the query, percent-encoded as sent.
    ///   - query: the query string (after `?`), if any.
    public static func parse(
        method: String, path: String, query: String?, headers: HTTPFields, body: ByteBuffer,
        account: LambdaAccount = LambdaAccount()
    ) -> Result<InvokeRequest, LambdaAPIError> {
        parseHead(method: method, path: path, query: query, headers: headers, account: account)
            .flatMap { $0.withPayload(body) }
    }

    /// Checks what comes before the body.
    public static func parseHead(
        method: String, path: String, query: String?, headers: HTTPFields, account: LambdaAccount = LambdaAccount()
    ) -> Result<Head, LambdaAPIError> {
        guard method == "POST", path.hasPrefix(LambdaInvokeAPI.functionsPrefix),
              path.hasSuffix(LambdaInvokeAPI.invocationsSuffix),
              path.utf8.count > LambdaInvokeAPI.functionsPrefix.utf8.count + LambdaInvokeAPI.invocationsSuffix.utf8.count
        else { return .failure(.unknownOperation(method: method, path: path)) }
        let encodedName = path.dropFirst(LambdaInvokeAPI.functionsPrefix.count).dropLast(LambdaInvokeAPI.invocationsSuffix.count)
        guard !encodedName.contains("/") else { return .failure(.unknownOperation(method: method, path: path)) }

        let invocationType: InvocationType
        if let value = headers[LambdaInvokeAPI.Header.invocationType] {
            guard let type = InvocationType(rawValue: value) else {
                return .failure(.invalidParameterValue(
                    "1 validation error detected: Value '\(value)' at 'invocationType' failed to satisfy constraint: "
                        + "Member must satisfy enum value set: [Event, RequestResponse, DryRun]"))
            }
            invocationType = type
        } else {
            invocationType = .requestResponse
        }
        let logType: LogType
        if let value = headers[LambdaInvokeAPI.Header.logType] {
            guard let type = LogType(rawValue: value) else {
                return .failure(.invalidParameterValue(
                    "1 validation error detected: Value '\(value)' at 'logType' failed to satisfy constraint: "
                        + "Member must satisfy enum value set: [Tail, None]"))
            }
            logType = type
        } else {
            logType = .none
        }

        guard let decodedName = Percent.decode(encodedName) else {
            return .failure(.validation("1 validation error detected: Value '\(encodedName)' at 'functionName' is not a valid URL path segment"))
        }
        let reference: FunctionReference
        switch FunctionReference.parse(decodedName) {
        case .success(let parsed): reference = parsed
        case .failure(let error): return .failure(error)
        }
        let queryQualifier = query.flatMap { Self.queryParameter("Qualifier", in: $0) }
        if let queryQualifier, let derived = reference.qualifier, queryQualifier != derived {
            return .failure(.invalidParameterValue("The derived qualifier from the function name does not match the specified qualifier."))
        }
        let qualifier = queryQualifier ?? reference.qualifier
        let region = reference.region ?? account.region
        let accountID = reference.account ?? account.account
        let notHere = region != account.region || accountID != account.account
        if notHere || (qualifier != nil && qualifier != LambdaInvokeAPI.latest) {
            let arn = LambdaAccount(region: region, account: accountID).functionARN(reference.name, qualifier: qualifier)
            return .failure(.functionNotFound(arn: arn))
        }

        var clientContext: String?
        if let encoded = headers[LambdaInvokeAPI.Header.clientContext], !encoded.isEmpty {
            let invalid = LambdaAPIError.invalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
            guard encoded.utf8.count <= LambdaInvokeAPI.maxClientContextBytes else {
                return .failure(.invalidRequestContent(
                    "Client context must be at most \(LambdaInvokeAPI.maxClientContextBytes) bytes of Base64-encoded JSON."))
            }
            guard let data = Data(base64Encoded: encoded), JSONSyntax.check(data) == nil,
                  let text = String(validating: data, as: UTF8.self)
            else { return .failure(invalid) }
            clientContext = text
        }
        return .success(Head(functionName: reference.name, invocationType: invocationType, logType: logType,
                             clientContext: clientContext))
    }

    /// The value of one query parameter (percent-decoded), the first if repeated.
    static func queryParameter(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if Percent.decodeLeniently(parts[0]) == name {
                return parts.count > 1 ? Percent.decodeLeniently(parts[1]) : ""
            }
        }
        return nil
    }
}

extension InvokeRequest.Head {
    /// Checks the payload: at most the type's limit, JSON (an empty body is `{}`).
    public func withPayload(_ body: ByteBuffer) -> Result<InvokeRequest, LambdaAPIError> {
        guard body.readableBytes <= invocationType.payloadLimit else {
            return .failure(.requestTooLarge(limit: invocationType.payloadLimit))
        }
        if body.readableBytes == 0 {
            return .success(InvokeRequest(head: self, payload: ByteBuffer(staticString: "{}")))
        }
        let failure = body.withUnsafeReadableBytes { JSONSyntax.check(buffer: $0) }
        if let failure {
            return .failure(.invalidRequestContent(
                "Could not parse request body into json: Could not parse payload into json: \(failure.description)"))
        }
        return .success(InvokeRequest(head: self, payload: body))
    }
}
