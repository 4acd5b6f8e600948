import Foundation
import HTTPTypes
import NIOCore
import Testing
@testable import Gateway

@Suite("Invoke API requests")
struct InvokeRequestTests {
    static let invocations = "/2015-03-31/functions/%@/invocations"

    func parse(_ name: String, query: String? = nil, headers: HTTPFields = [:], body: String = #"{"a":1}"#,
               method: String = "POST") -> Result<InvokeRequest, LambdaAPIError> {
        InvokeRequest.parse(method: method, path: "/2015-03-31/functions/\(name)/invocations", query: query,
                            headers: headers, body: ByteBuffer(string: body))
    }

    func error(_ result: Result<InvokeRequest, LambdaAPIError>) -> LambdaAPIError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test("function names in every form AWS accepts, URL-encoded or not", arguments: [
        ("my-function", "my-function"),
        ("my_function.v2", "my_function.v2"),
        ("my-function:$LATEST", "my-function"),
        ("my-function%3A%24LATEST", "my-function"),
        ("000000000000:function:my-function", "my-function"),
        ("000000000000%3Afunction%3Amy-function", "my-function"),
        ("function:my-function", "my-function"),
        ("arn:aws:lambda:us-east-1:000000000000:function:my-function", "my-function"),
        ("arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Amy-function%3A%24LATEST", "my-function"),
        ("arn:aws:lambda:us-east-1:000000000000:function:my-function:$LATEST", "my-function"),
    ])
    func names(raw: String, expected: String) throws {
        let request = try parse(raw).get()
        #expect(request.functionName == expected)
        #expect(request.invocationType == .requestResponse)
        #expect(request.logType == LogType.none)
        #expect(String(buffer: request.payload) == #"{"a":1}"#)
    }

    @Test("a qualifier other than $LATEST is a 404 naming the qualified ARN", arguments: [
        ("my-function:prod", nil as String?, "arn:aws:lambda:us-east-1:000000000000:function:my-function:prod"),
        ("my-function", "Qualifier=1", "arn:aws:lambda:us-east-1:000000000000:function:my-function:1"),
        ("arn:aws:lambda:us-east-1:000000000000:function:my-function:7", nil, "arn:aws:lambda:us-east-1:000000000000:function:my-function:7"),
        ("000000000000:function:f:live", nil, "arn:aws:lambda:us-east-1:000000000000:function:f:live"),
    ])
    func qualifiers(raw: String, query: String?, arn: String) throws {
        let failure = try #require(error(parse(raw, query: query)))
        #expect(failure.status == 404)
        #expect(failure.errorType == "ResourceNotFoundException")
        #expect(failure.message == "Function not found: \(arn)")
        #expect(failure.messageKey == "Message")
    }

    @Test("?Qualifier=$LATEST (encoded or not) is accepted")
    func latestQualifier() throws {
        #expect(try parse("f", query: "Qualifier=%24LATEST").get().functionName == "f")
        #expect(try parse("f", query: "x=1&Qualifier=$LATEST").get().functionName == "f")
        #expect(try parse("f:$LATEST", query: "Qualifier=$LATEST").get().functionName == "f")
    }

    @Test("a qualifier in the name that differs from ?Qualifier= is a 400")
    func qualifierMismatch() throws {
        let failure = try #require(error(parse("f:$LATEST", query: "Qualifier=prod")))
        #expect(failure.status == 400)
        #expect(failure.errorType == "InvalidParameterValueException")
    }

    @Test("an ARN of another region or account is not found here")
    func otherRegionOrAccount() throws {
        let region = try #require(error(parse("arn:aws:lambda:eu-west-1:000000000000:function:f")))
        #expect(region.status == 404)
        #expect(region.message == "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:f")
        let account = try #require(error(parse("123456789012:function:f")))
        #expect(account.message == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f")
    }

    @Test("names outside AWS's pattern or lengths are a ValidationException", arguments: [
        "bad%20name", "a:b:c:d", "arn:aws:s3:us-east-1:000000000000:function:f", "f:", ":f",
        String(repeating: "a", count: 65), "%ZZ",
    ])
    func invalidNames(raw: String) throws {
        let failure = try #require(error(parse(raw)))
        #expect(failure.status == 400)
        #expect(failure.errorType == "ValidationException")
        #expect(failure.message.contains("functionName"))
    }

    @Test("a 64-character name is fine; longer only inside an ARN")
    func nameLengths() throws {
        let name = String(repeating: "a", count: 64)
        #expect(try parse(name).get().functionName == name)
        #expect(try parse("000000000000:function:\(name)").get().functionName == name)
    }

    @Test("the three invocation types and a bad one")
    func invocationTypes() throws {
        for type in InvocationType.allCases {
            let request = try parse("f", headers: [LambdaInvokeAPI.Header.invocationType: type.rawValue]).get()
            #expect(request.invocationType == type)
        }
        let failure = try #require(error(parse("f", headers: [LambdaInvokeAPI.Header.invocationType: "Sometime"])))
        #expect(failure.status == 400)
        #expect(failure.errorType == "InvalidParameterValueException")
        #expect(failure.message.contains("Sometime"))
    }

    @Test("X-Amz-Log-Type: Tail, None, and a bad value")
    func logTypes() throws {
        #expect(try parse("f", headers: [LambdaInvokeAPI.Header.logType: "Tail"]).get().logType == .tail)
        #expect(try parse("f", headers: [LambdaInvokeAPI.Header.logType: "None"]).get().logType == LogType.none)
        let failure = try #require(error(parse("f", headers: [LambdaInvokeAPI.Header.logType: "All"])))
        #expect(failure.errorType == "InvalidParameterValueException")
    }

    @Test("an empty body is {}")
    func emptyBody() throws {
        #expect(String(buffer: try parse("f", body: "").get().payload) == "{}")
    }

    @Test("any JSON value is a payload, passed on byte for byte", arguments: [
        #"{"a":[1,2.5e3,-0.1,true,false,null,"\u00e9\n"]}"#, #""text""#, "42", "null", "[]", " {\"x\":{}} \n", "\"é😀\"",
    ])
    func jsonPayloads(body: String) throws {
        #expect(String(buffer: try parse("f", body: body).get().payload) == body)
    }

    @Test("a payload that is not JSON is a 400 InvalidRequestContentException", arguments: [
        "not json", "{", #"{"a":}"#, "[1,]", #"{"a":1,}"#, "01", "1.", "tru", #""unterminated"#, "{} {}",
        "\"tab\there\"", #"{a:1}"#, #""\x""#, #""\u12G4""#,
    ])
    func notJSON(body: String) throws {
        let failure = try #require(error(parse("f", body: body)))
        #expect(failure.status == 400)
        #expect(failure.errorType == "InvalidRequestContentException")
        #expect(failure.message.hasPrefix("Could not parse request body into json: "))
        #expect(failure.messageKey == "message")
    }

    @Test("invalid UTF-8 inside a JSON string is refused")
    func invalidUTF8() throws {
        var body = ByteBuffer(string: "\"")
        body.writeBytes([0xC3, 0x28])
        body.writeString("\"")
        let result = InvokeRequest.parse(method: "POST", path: "/2015-03-31/functions/f/invocations", query: nil,
                                         headers: [:], body: body)
        #expect(error(result)?.errorType == "InvalidRequestContentException")
    }

    @Test("a deeply nested payload is checked without recursion")
    func deepNesting() throws {
        let depth = 200_000
        let body = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try parse("f", body: body).get().payload.readableBytes == depth * 2)
    }

    @Test("6 MB synchronously, 1 MB as an event: one byte more is a 413")
    func sizes() throws {
        let sync = String(repeating: " ", count: LambdaInvokeAPI.maxSyncPayloadBytes - 2)
        #expect(throws: Never.self) { try parse("f", body: "{}" + sync).get() }
        let tooBig = try #require(error(parse("f", body: "{}" + sync + " ")))
        #expect(tooBig.status == 413)
        #expect(tooBig.errorType == "RequestTooLargeException")
        #expect(tooBig.message == "Request must be smaller than 6291456 bytes for the InvokeFunction operation")

        let event: HTTPFields = [LambdaInvokeAPI.Header.invocationType: "Event"]
        let async = String(repeating: " ", count: LambdaInvokeAPI.maxAsyncPayloadBytes - 2)
        #expect(throws: Never.self) { try parse("f", headers: event, body: "{}" + async).get() }
        let asyncTooBig = try #require(error(parse("f", headers: event, body: "{}" + async + " ")))
        #expect(asyncTooBig.status == 413)
        #expect(asyncTooBig.message.contains("1048576"))
    }

    @Test("X-Amz-Client-Context: base64 JSON is decoded for the runtime; anything else is a 400")
    func clientContext() throws {
        let context = #"{"custom":{"k":"v"},"env":{"platform":"test"}}"#
        let encoded = Data(context.utf8).base64EncodedString()
        let request = try parse("f", headers: [LambdaInvokeAPI.Header.clientContext: encoded]).get()
        #expect(request.clientContext == context)

        for bad in ["not base64!", Data("not json".utf8).base64EncodedString(),
                    String(repeating: "A", count: LambdaInvokeAPI.maxClientContextBytes + 1)] {
            let failure = try #require(error(parse("f", headers: [LambdaInvokeAPI.Header.clientContext: bad])))
            #expect(failure.status == 400)
            #expect(failure.errorType == "InvalidRequestContentException")
        }
    }

    @Test("other methods and paths under /2015-03-31/ are unknown operations", arguments: [
        ("GET", "/2015-03-31/functions/f/invocations"),
        ("POST", "/2015-03-31/functions/f"),
        ("GET", "/2015-03-31/functions/"),
        ("POST", "/2015-03-31/functions//invocations"),
        ("POST", "/2015-03-31/functions/a/b/invocations"),
    ])
    func unknownOperations(method: String, path: String) throws {
        let result = InvokeRequest.parse(method: method, path: path, query: nil, headers: [:], body: ByteBuffer())
        let failure = try #require(error(result))
        #expect(failure.status == 404)
        #expect(failure.errorType == "UnknownOperationException")
    }

    @Test("errors are AWS JSON documents botocore can read")
    func errorBodies() throws {
        let notFound = try #require(json(LambdaAPIError.functionNotFound(arn: "arn:x").body))
        #expect(notFound["Type"] as? String == "User")
        #expect(notFound["Message"] as? String == "Function not found: arn:x")
        #expect(String(buffer: LambdaAPIError.tooManyRequests(reason: "ReservedFunctionConcurrentInvocationLimitExceeded").body)
            == #"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#)
        let quoted = try #require(json(LambdaAPIError.invalidRequestContent("a \"quoted\"\nline\u{1}").body))
        #expect(quoted["message"] as? String == "a \"quoted\"\nline\u{1}")
    }
}
