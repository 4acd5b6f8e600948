/// Paths and headers of the AWS Lambda Runtime API, version 2018-06-01.
public enum LambdaRuntimeAPI {
    /// The API version segment of every Runtime API path.
    public static let version = "2018-06-01"

    /// The environment variable that holds the API's `host:port`.
    public static let endpointVariable = "AWS_LAMBDA_RUNTIME_API"

    /// Where the runtime puts the trace header for SDKs to pick up.
    public static let traceIDVariable = "_X_AMZN_TRACE_ID"

    enum Paths {
        static let next = "/\(version)/runtime/invocation/next"
        static let initError = "/\(version)/runtime/init/error"
        static func response(_ requestID: String) -> String { "/\(version)/runtime/invocation/\(requestID)/response" }
        static func error(_ requestID: String) -> String { "/\(version)/runtime/invocation/\(requestID)/error" }
    }

    /// Header names (matched case-insensitively).
    public enum Headers {
        public static let requestID = "Lambda-Runtime-Aws-Request-Id"
        public static let deadline = "Lambda-Runtime-Deadline-Ms"
        public static let invokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
        public static let traceID = "Lambda-Runtime-Trace-Id"
        public static let clientContext = "Lambda-Runtime-Client-Context"
        public static let cognitoIdentity = "Lambda-Runtime-Cognito-Identity"
        public static let functionErrorType = "Lambda-Runtime-Function-Error-Type"
    }

    /// The `Lambda-Runtime-Function-Error-Type` this runtime sends for an error
    /// the function threw (the same value the AWS C++ and Swift runtimes send).
    public static let unhandledErrorType = "Unhandled"
}

/// The error document Lambda runtimes post:
/// `{"errorMessage": "...", "errorType": "...", "stackTrace": []}`.
struct ErrorDocument: Sendable, Equatable {
    var errorMessage: String
    var errorType: String

    init(errorMessage: String, errorType: String) {
        self.errorMessage = errorMessage
        self.errorType = errorType
    }

    /// The document for a thrown error: its type name and its description.
    init(_ error: any Error) {
        self.errorType = String(describing: type(of: error))
        self.errorMessage = String(describing: error)
    }

    var json: [UInt8] {
        Array("{\"errorMessage\":\(JSONString.quote(errorMessage)),\"errorType\":\(JSONString.quote(errorType)),\"stackTrace\":[]}".utf8)
    }
}

enum JSONString {
    /// `text` as a JSON string literal, quotes included.
    static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}

/// One event from `GET /next`.
struct Invocation: Sendable, Equatable {
    var context: LambdaContext
    var event: [UInt8]
}

/// The runtime's side of the Runtime API over one kept-alive connection.
final class RuntimeAPIClient {
    let connection: HTTPConnection

    init(endpoint: RuntimeAPIEndpoint) {
        connection = HTTPConnection(endpoint: endpoint)
    }

    /// Waits for the next event. Maps to `GET /2018-06-01/runtime/invocation/next`.
    func next() throws -> Invocation {
        let response = try connection.execute(HTTPRequest(method: "GET", path: LambdaRuntimeAPI.Paths.next))
        guard response.status == 200 else {
            throw LambdaRuntimeError(.unexpectedStatus, "GET \(LambdaRuntimeAPI.Paths.next) answered \(response.status) \(describe(response))")
        }
        return try Self.invocation(from: response)
    }

    static func invocation(from response: HTTPResponse) throws -> Invocation {
        let headers = response.headers
        guard let requestID = headers[LambdaRuntimeAPI.Headers.requestID], !requestID.isEmpty else {
            throw LambdaRuntimeError(.missingHeader, "/next response has no \(LambdaRuntimeAPI.Headers.requestID)")
        }
        // Deadline: required by the API, but tolerate its absence (no deadline).
        let deadline = headers[LambdaRuntimeAPI.Headers.deadline].flatMap { Int64($0) } ?? Int64.max
        let context = LambdaContext(
            requestID: requestID,
            deadlineMilliseconds: deadline,
            invokedFunctionARN: headers[LambdaRuntimeAPI.Headers.invokedFunctionARN] ?? "",
            traceID: headers[LambdaRuntimeAPI.Headers.traceID],
            clientContext: headers[LambdaRuntimeAPI.Headers.clientContext],
            cognitoIdentity: headers[LambdaRuntimeAPI.Headers.cognitoIdentity]
        )
        return Invocation(context: context, event: response.body)
    }

    /// Sends the handler's result.
    /// Maps to `POST /2018-06-01/runtime/invocation/{id}/response`.
    func respond(requestID: String, body: [UInt8]) throws {
        try post(LambdaRuntimeAPI.Paths.response(requestID), headers: HTTPHeaders(), body: body)
    }

    /// Reports an error the handler threw.
    /// Maps to `POST /2018-06-01/runtime/invocation/{id}/error`.
    func reportError(requestID: String, _ document: ErrorDocument) throws {
        try post(LambdaRuntimeAPI.Paths.error(requestID), headers: Self.errorHeaders, body: document.json)
    }

    /// Reports that the function could not start.
    /// Maps to `POST /2018-06-01/runtime/init/error`.
    func reportInitError(_ document: ErrorDocument) throws {
        try post(LambdaRuntimeAPI.Paths.initError, headers: Self.errorHeaders, body: document.json)
    }

    private static let errorHeaders = HTTPHeaders([
        ("Content-Type", "application/json"),
        (LambdaRuntimeAPI.Headers.functionErrorType, LambdaRuntimeAPI.unhandledErrorType),
    ])

    /// A POST the API answers with 202. A 4xx (bad request id, payload too
    /// large) is written to stderr and the loop goes on, as AWS runtimes do;
    /// a 500 means the API is in a state the runtime cannot recover from.
    private func post(_ path: String, headers: HTTPHeaders, body: [UInt8]) throws {
        let response = try connection.execute(HTTPRequest(method: "POST", path: path, headers: headers, body: body))
        switch response.status {
        case 200..<300:
            return
        case 400..<500:
            StandardStreams.writeError("tandem-lambda-runtime: POST \(path) answered \(response.status) \(describe(response))\n")
        default:
            throw LambdaRuntimeError(.unexpectedStatus, "POST \(path) answered \(response.status) \(describe(response))")
        }
    }

    private func describe(_ response: HTTPResponse) -> String {
        String(decoding: response.body.prefix(512), as: UTF8.self)
    }
}
