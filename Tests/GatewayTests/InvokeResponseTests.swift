import Foundation
import HTTPTypes
import NIOCore
import Testing
@testable import FunctionMode
@testable import Gateway

@Suite("Invoke API responses")
struct InvokeResponseTests {
    @Test("a result is 200 with the body as is, the request id and $LATEST")
    func response() {
        let answer = InvokeResponse.make(result: Results.response(#"{"ok":true}"#), logType: .none)
        #expect(answer.status == .ok)
        #expect(String(buffer: answer.body) == #"{"ok":true}"#)
        #expect(answer.headers[.contentType] == "application/json")
        #expect(answer.headers[named: "x-amzn-RequestId"] == Results.requestID.rawValue)
        #expect(answer.headers[named: "X-Amz-Executed-Version"] == "$LATEST")
        #expect(answer.headers[named: "X-Amz-Function-Error"] == nil)
        #expect(answer.headers[named: "X-Amz-Log-Result"] == nil)
        #expect(answer.headers[named: "x-amzn-ErrorType"] == nil)
    }

    static let functionErrors: [(String, InvocationOutcome, String)] = [
        ("handler error", .functionError(RuntimeErrorReport(
            errorType: "EchoFailure", errorMessage: "no",
            body: Array(#"{"errorMessage":"no","errorType":"EchoFailure"}"#.utf8))), "EchoFailure"),
        ("handler error without a body", .functionError(RuntimeErrorReport(errorType: "E", errorMessage: "m", body: [])), "E"),
        ("timeout", .failed(.timedOut(after: .seconds(3))), "Sandbox.Timedout"),
        ("crash", .failed(.runtimeExited(exitCode: 3, outOfMemory: false)), "Runtime.ExitError"),
        ("out of memory", .failed(.runtimeExited(exitCode: 137, outOfMemory: true)), "Runtime.OutOfMemory"),
        ("init error", .failed(.initFailed(errorType: "Runtime.Init", message: "boom")), "Runtime.Init"),
        ("response too large", .responseTooLarge(bytes: 7_000_000), "Function.ResponseSizeTooLarge"),
    ]

    @Test("function errors, timeouts, crashes and oversized answers are 200 with X-Amz-Function-Error: Unhandled",
          arguments: functionErrors)
    func functionError(label: String, outcome: InvocationOutcome, errorType: String) throws {
        let result = Results.make(outcome)
        let answer = InvokeResponse.make(result: result, logType: .none)
        #expect(answer.status == .ok, "\(label)")
        #expect(answer.headers[named: "X-Amz-Function-Error"] == "Unhandled")
        #expect(answer.headers[named: "X-Amz-Executed-Version"] == "$LATEST")
        #expect(answer.headers[named: "x-amzn-RequestId"] == Results.requestID.rawValue)
        let document = try #require(json(answer.body))
        #expect(document["errorType"] as? String == errorType)
        #expect(String(buffer: answer.body) == result.errorDocument?.body)
    }

    static let refusals: [(String, InvocationOutcome, Int, String, String?)] = [
        ("no environment", .failed(.environmentUnavailable(message: "no such image")), 502, "ResourceNotReadyException", nil),
        ("shutting down", .failed(.shuttingDown), 503, "ServiceException", nil),
        ("reserved concurrency", .rejected(.reservedConcurrencyExceeded(limit: 2)), 429, "TooManyRequestsException",
         "ReservedFunctionConcurrentInvocationLimitExceeded"),
        ("throttled", .rejected(.throttled), 429, "TooManyRequestsException", "ReservedFunctionConcurrentInvocationLimitExceeded"),
        ("global concurrency", .rejected(.globalConcurrencyExceeded(limit: 64)), 429, "TooManyRequestsException",
         "ConcurrentInvocationLimitExceeded"),
        ("unknown function", .rejected(.unknownFunction), 404, "ResourceNotFoundException", nil),
    ]

    @Test("refusals and tandem's own failures are AWS errors", arguments: refusals)
    func refusal(label: String, outcome: InvocationOutcome, status: Int, errorType: String, reason: String?) throws {
        let answer = InvokeResponse.make(result: Results.make(outcome, function: "thumbs"), logType: .tail)
        #expect(answer.status.code == status, "\(label)")
        #expect(answer.headers[named: "x-amzn-ErrorType"] == errorType)
        #expect(answer.headers[named: "x-amzn-RequestId"] == Results.requestID.rawValue)
        #expect(answer.headers[.contentType] == "application/json")
        #expect(answer.headers[named: "X-Amz-Function-Error"] == nil)
        let body = try #require(json(answer.body))
        #expect(body["Type"] as? String != nil)
        #expect((body["message"] ?? body["Message"]) as? String != nil)
        #expect(body["Reason"] as? String == reason)
    }

    @Test("429 has exactly Lambda's body")
    func throttleBody() {
        let answer = InvokeResponse.make(result: Results.make(.rejected(.reservedConcurrencyExceeded(limit: 1))), logType: .none)
        #expect(String(buffer: answer.body)
            == #"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#)
    }

    @Test("an unknown function's 404 names its ARN")
    func unknownFunction() {
        let answer = InvokeResponse.make(result: Results.make(.rejected(.unknownFunction), function: "gone"), logType: .none,
                                         account: LambdaAccount(region: "eu-west-1", account: "123456789012"))
        #expect(String(buffer: answer.body)
            == #"{"Type":"User","Message":"Function not found: arn:aws:lambda:eu-west-1:123456789012:function:gone"}"#)
    }

    @Test("Tail: the last 4 KB of the log, base64, on results and function errors; none without a log")
    func tail() throws {
        let log = "START RequestId: x Version: $LATEST\n" + String(repeating: "line\n", count: 2000) + "END RequestId: x\n"
        let answer = InvokeResponse.make(result: Results.response("1", log: log), logType: .tail)
        let header = try #require(answer.headers[named: "X-Amz-Log-Result"])
        let decoded = try #require(Data(base64Encoded: header))
        #expect(decoded.count == 4096)
        #expect(Array(decoded) == Array(log.utf8.suffix(4096)))

        let failed = InvokeResponse.make(result: Results.make(.failed(.timedOut(after: .seconds(1))), log: "short log"), logType: .tail)
        #expect(failed.headers[named: "X-Amz-Log-Result"] == Data("short log".utf8).base64EncodedString())

        #expect(InvokeResponse.make(result: Results.response("1"), logType: .tail).headers[named: "X-Amz-Log-Result"] == nil)
        #expect(InvokeResponse.make(result: Results.response("1", log: log), logType: .none).headers[named: "X-Amz-Log-Result"] == nil)
    }

    @Test("the 4 KB cut counts bytes, even inside a multi-byte character")
    func tailCutsBytes() throws {
        let log = String(repeating: "é", count: 3000)  // 6,000 bytes
        let tail = try #require(Data(base64Encoded: InvokeResponse.logTail(log)))
        #expect(tail.count == 4096)
        #expect(Array(tail) == Array(log.utf8.suffix(4096)))
        #expect(try #require(Data(base64Encoded: InvokeResponse.logTail("short"))) == Data("short".utf8))
    }

    @Test("Event is 202 and DryRun 204, both empty with the request id")
    func acceptedAndDryRun() {
        let accepted = InvokeResponse.accepted(requestID: "r-1")
        #expect(accepted.status == .accepted)
        #expect(accepted.body.readableBytes == 0)
        #expect(accepted.headers[named: "x-amzn-RequestId"] == "r-1")
        #expect(accepted.headers[.contentType] == "application/json")
        let dryRun = InvokeResponse.dryRun(requestID: "r-2")
        #expect(dryRun.status == .noContent)
        #expect(dryRun.headers[named: "x-amzn-RequestId"] == "r-2")
    }

    @Test("every Invoke API error maps to its status, x-amzn-ErrorType and message key", arguments: [
        (LambdaAPIError.functionNotFound(arn: "a"), 404, "ResourceNotFoundException", "Message"),
        (LambdaAPIError.requestTooLarge(limit: 1), 413, "RequestTooLargeException", "message"),
        (LambdaAPIError.invalidRequestContent("x"), 400, "InvalidRequestContentException", "message"),
        (LambdaAPIError.invalidParameterValue("x"), 400, "InvalidParameterValueException", "message"),
        (LambdaAPIError.validation("x"), 400, "ValidationException", "message"),
        (LambdaAPIError.tooManyRequests(reason: "r"), 429, "TooManyRequestsException", "message"),
        (LambdaAPIError.resourceNotReady("x"), 502, "ResourceNotReadyException", "message"),
        (LambdaAPIError.service("x"), 500, "ServiceException", "Message"),
        (LambdaAPIError.service("x", status: 503), 503, "ServiceException", "Message"),
        (LambdaAPIError.unknownOperation(method: "GET", path: "/"), 404, "UnknownOperationException", "message"),
    ])
    func errorMapping(error: LambdaAPIError, status: Int, errorType: String, key: String) throws {
        let answer = InvokeResponse.error(error, requestID: "rid")
        #expect(answer.status.code == status)
        #expect(answer.headers[named: "x-amzn-ErrorType"] == errorType)
        #expect(answer.headers[named: "x-amzn-RequestId"] == "rid")
        let body = try #require(json(answer.body))
        #expect(body[key] as? String != nil)
        #expect(body["Type"] as? String == (status >= 500 ? "Service" : "User"))
    }
}
