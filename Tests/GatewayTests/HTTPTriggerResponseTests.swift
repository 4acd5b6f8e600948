import Foundation
import HTTPTypes
import NIOCore
import Testing
@testable import FunctionMode
@testable import Gateway

@Suite("Mapping function answers to HTTP (API Gateway payload format 2.0)")
struct HTTPTriggerResponseTests {
    func map(_ text: String) -> HTTPTriggerResponse {
        HTTPTriggerResponse.mapFunctionResponse(ByteBuffer(string: text))
    }

    @Test("statusCode, headers, multiValueHeaders, cookies and body")
    func proxyObject() {
        let answer = map("""
            {"statusCode":201,"headers":{"Content-Type":"text/plain","x-n":5,"x-b":true,"Content-Length":"999"},
             "multiValueHeaders":{"x-m":["1","2"]},"cookies":["a=1; Path=/","b=2"],"body":"créé"}
            """)
        #expect(answer.status.code == 201)
        #expect(answer.headers[.contentType] == "text/plain")
        #expect(answer.headers[named: "x-n"] == "5")
        #expect(answer.headers[named: "x-b"] == "true")
        #expect(answer.headers[values: HTTPField.Name("x-m")!] == ["1", "2"])
        #expect(answer.headers[values: .setCookie] == ["a=1; Path=/", "b=2"])
        #expect(answer.headers[.contentLength] == nil, "the server sets Content-Length itself")
        #expect(String(buffer: answer.body) == "créé")
    }

    @Test("a base64 body comes out as the original bytes")
    func binaryBody() {
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF, 0xFE]
        let answer = map(#"{"statusCode":200,"headers":{"content-type":"image/png"},"isBase64Encoded":true,"body":"\#(Data(bytes).base64EncodedString())"}"#)
        #expect(answer.status == .ok)
        #expect(Array(answer.body.readableBytesView) == bytes)
        #expect(answer.headers[.contentType] == "image/png")
    }

    @Test("a status code alone: empty body, no headers")
    func statusOnly() {
        let answer = map(#"{"statusCode":204}"#)
        #expect(answer.status == .noContent)
        #expect(answer.body.readableBytes == 0)
        #expect(answer.headers.isEmpty)
    }

    @Test("JSON without statusCode is a 200 application/json with the answer as the body", arguments: [
        #"{"message":"hello"}"#, "[1,2]", "42", "true", "null", #"{"version":"2.0","rawPath":"/x"}"#,
    ])
    func plainJSON(text: String) {
        let answer = map(text)
        #expect(answer.status == .ok)
        #expect(answer.headers[.contentType] == "application/json")
        #expect(String(buffer: answer.body) == text)
    }

    @Test("a JSON string answer is sent as its text")
    func stringAnswer() {
        let answer = map(#""Hello from Lambda!\n""#)
        #expect(answer.status == .ok)
        #expect(answer.headers[.contentType] == "application/json")
        #expect(String(buffer: answer.body) == "Hello from Lambda!\n")
    }

    @Test("an answer that is not JSON, or a malformed statusCode object, is a 500", arguments: [
        "not json", "", #"{"statusCode":"abc"}"#, #"{"statusCode":99}"#, #"{"statusCode":200,"headers":[1]}"#,
        #"{"statusCode":200,"cookies":"a=1"}"#, #"{"statusCode":200,"isBase64Encoded":true,"body":"***"}"#,
        #"{"statusCode":200,"isBase64Encoded":"yes"}"#, #"{"statusCode":200,"headers":{"bad name":"x"}}"#,
    ])
    func malformed(text: String) {
        let answer = map(text)
        #expect(answer.status == .internalServerError, "\(text)")
        #expect(String(buffer: answer.body) == #"{"message":"Internal Server Error"}"#)
    }

    @Test("a numeric string statusCode and a non-string body are accepted leniently")
    func lenient() {
        let answer = map(#"{"statusCode":"202","body":{"a":[1,"x"]}}"#)
        #expect(answer.status == .accepted)
        #expect(String(buffer: answer.body) == #"{"a":[1,"x"]}"#)
    }

    static let outcomes: [(String, InvocationOutcome, Int, String)] = [
        ("function error", .functionError(RuntimeErrorReport(errorType: "E", errorMessage: "m", body: [])), 502, "Internal Server Error"),
        ("timeout", .failed(.timedOut(after: .seconds(1))), 502, "Internal Server Error"),
        ("crash", .failed(.runtimeExited(exitCode: 1, outOfMemory: false)), 502, "Internal Server Error"),
        ("init error", .failed(.initFailed(errorType: "E", message: "m")), 502, "Internal Server Error"),
        ("no environment", .failed(.environmentUnavailable(message: "m")), 502, "Internal Server Error"),
        ("too large", .responseTooLarge(bytes: 7_000_000), 502, "Internal Server Error"),
        ("throttled", .rejected(.reservedConcurrencyExceeded(limit: 1)), 429, "Too Many Requests"),
        ("globally throttled", .rejected(.globalConcurrencyExceeded(limit: 1)), 429, "Too Many Requests"),
        ("reserved 0", .rejected(.throttled), 429, "Too Many Requests"),
        ("no such function", .rejected(.unknownFunction), 500, "Internal Server Error"),
        ("shutting down", .failed(.shuttingDown), 503, "Service Unavailable"),
    ]

    @Test("failures are API Gateway's own answers", arguments: outcomes)
    func failures(label: String, outcome: InvocationOutcome, status: Int, message: String) {
        let answer = HTTPTriggerResponse.make(result: Results.make(outcome), requestID: "gw-1")
        #expect(answer.status.code == status, "\(label)")
        #expect(String(buffer: answer.body) == #"{"message":"\#(message)"}"#)
        #expect(answer.headers[.contentType] == "application/json")
        #expect(answer.headers[named: "apigw-requestid"] == "gw-1")
    }

    @Test("a result is mapped and gets the request id")
    func result() {
        let answer = HTTPTriggerResponse.make(result: Results.response(#"{"statusCode":418,"body":"teapot"}"#), requestID: "gw-2")
        #expect(answer.status.code == 418)
        #expect(String(buffer: answer.body) == "teapot")
        #expect(answer.headers[named: "apigw-requestid"] == "gw-2")
    }
}
