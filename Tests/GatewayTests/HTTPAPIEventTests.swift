import Foundation
import HTTPTypes
import NIOCore
import Testing
@testable import Gateway

@Suite("API Gateway HTTP API events (payload format 2.0)")
struct HTTPAPIEventTests {
    static let match = RouteMatch(
        route: GatewayRoute(methods: ["POST"], path: "/items/{id}", target: .function("f")),
        pathParameters: [("id", "42")], routeKey: "POST /items/{id}")

    func event(_ request: HTTPTriggerRequest, match: RouteMatch = match) throws -> [String: Any] {
        let buffer = HTTPAPIEvent.make(request, match: match, requestID: "req-1", epochMilliseconds: 1_583_348_638_390)
        return try #require(json(buffer), "not JSON: \(String(buffer: buffer))")
    }

    @Test("every field of a text request")
    func textRequest() throws {
        var headers = HTTPFields()
        headers.append(HTTPField(name: .contentType, value: "application/json"))
        headers.append(HTTPField(name: .userAgent, value: "curl/8.0"))
        headers.append(HTTPField(name: HTTPField.Name("X-Multi")!, value: "a"))
        headers.append(HTTPField(name: HTTPField.Name("x-multi")!, value: "b"))
        headers.append(HTTPField(name: .cookie, value: "c1=v1; c2=v2"))
        let request = HTTPTriggerRequest(
            method: "POST", path: "/items/42", query: "a=1&a=2&b=x%20y&flag", authority: "api.example.com:8080",
            headers: headers, body: ByteBuffer(string: #"{"name":"ü"}"#), sourceIP: "10.0.0.7")
        let e = try event(request)
        #expect(e["version"] as? String == "2.0")
        #expect(e["routeKey"] as? String == "POST /items/{id}")
        #expect(e["rawPath"] as? String == "/items/42")
        #expect(e["rawQueryString"] as? String == "a=1&a=2&b=x%20y&flag")
        #expect(e["cookies"] as? [String] == ["c1=v1", "c2=v2"])
        let h = try #require(e["headers"] as? [String: String])
        #expect(h == ["host": "api.example.com:8080", "content-type": "application/json", "user-agent": "curl/8.0",
                      "x-multi": "a,b"])
        #expect(e["queryStringParameters"] as? [String: String] == ["a": "1,2", "b": "x y", "flag": ""])
        #expect(e["pathParameters"] as? [String: String] == ["id": "42"])
        #expect(e["body"] as? String == #"{"name":"ü"}"#)
        #expect(e["isBase64Encoded"] as? Bool == false)
        let context = try #require(e["requestContext"] as? [String: Any])
        #expect(context["accountId"] as? String == "000000000000")
        #expect(context["apiId"] as? String == "tandem")
        #expect(context["domainName"] as? String == "api.example.com:8080")
        #expect(context["domainPrefix"] as? String == "api")
        #expect(context["requestId"] as? String == "req-1")
        #expect(context["routeKey"] as? String == "POST /items/{id}")
        #expect(context["stage"] as? String == "$default")
        #expect(context["time"] as? String == "04/Mar/2020:19:03:58 +0000")
        #expect((context["timeEpoch"] as? NSNumber)?.int64Value == 1_583_348_638_390)
        let http = try #require(context["http"] as? [String: String])
        #expect(http == ["method": "POST", "path": "/items/42", "protocol": "HTTP/1.1", "sourceIp": "10.0.0.7",
                         "userAgent": "curl/8.0"])
    }

    @Test("optional fields are left out when empty")
    func minimal() throws {
        let match = RouteMatch(route: GatewayRoute(path: "/", target: .function("f")), pathParameters: [], routeKey: "ANY /")
        let e = try event(HTTPTriggerRequest(method: "GET", path: "/"), match: match)
        for absent in ["cookies", "queryStringParameters", "pathParameters", "body", "stageVariables"] {
            #expect(e[absent] == nil, "\(absent)")
        }
        #expect(e["rawQueryString"] as? String == "")
        #expect(e["headers"] as? [String: String] == [:])
        #expect(e["isBase64Encoded"] as? Bool == false)
        #expect((e["requestContext"] as? [String: Any])?["domainName"] as? String == "localhost")
    }

    @Test("binary bodies (binary content type or not UTF-8) are base64", arguments: [
        ("image/png", [0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF] as [UInt8], true),
        ("application/octet-stream", Array("plain".utf8), true),
        ("application/x-www-form-urlencoded", Array("a=1".utf8), true),
        (nil as String?, [0xFF, 0xFE, 0x00] as [UInt8], true),
        ("text/plain; charset=utf-8", [0xC3, 0x28] as [UInt8], true),
        ("text/plain; charset=utf-8", Array("héllo\n\"quoted\"".utf8), false),
        ("application/vnd.api+json", Array("{}".utf8), false),
        (nil, Array("no type".utf8), false),
    ])
    func binary(contentType: String?, bytes: [UInt8], base64: Bool) throws {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        let e = try event(HTTPTriggerRequest(method: "POST", path: "/items/42", headers: headers, body: ByteBuffer(bytes: bytes)))
        #expect(e["isBase64Encoded"] as? Bool == base64)
        let body = try #require(e["body"] as? String)
        if base64 {
            #expect(Data(base64Encoded: body) == Data(bytes))
        } else {
            #expect(Array(body.utf8) == bytes)
        }
    }

    @Test("control characters and quotes in any field stay valid JSON")
    func escaping() throws {
        var headers = HTTPFields()
        headers[HTTPField.Name("x-q")!] = #"say "hi" \ there"#
        let e = try event(HTTPTriggerRequest(method: "POST", path: "/items/%22", query: "q=%0A",
                                             headers: headers, body: ByteBuffer(string: "line1\nline2\t\u{1}")))
        #expect(e["body"] as? String == "line1\nline2\t\u{1}")
        #expect((e["headers"] as? [String: String])?["x-q"] == #"say "hi" \ there"#)
        #expect((e["queryStringParameters"] as? [String: String])?["q"] == "\n")
    }

    @Test("API Gateway's time format", arguments: [
        (0 as Int64, "01/Jan/1970:00:00:00 +0000"),
        (1_583_348_638_390, "04/Mar/2020:19:03:58 +0000"),
        (951_782_400_000, "29/Feb/2000:00:00:00 +0000"),
        (4_102_444_799_999, "31/Dec/2099:23:59:59 +0000"),
    ])
    func time(epoch: Int64, expected: String) {
        #expect(HTTPAPIEvent.formatTime(epochMilliseconds: epoch) == expected)
    }
}
