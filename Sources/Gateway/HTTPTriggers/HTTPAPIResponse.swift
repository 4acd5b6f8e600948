import Foundation
import FunctionMode
import HTTPTypes
import NIOCore

/// The HTTP answer to an http-route request, mapped from the function's
/// outcome the way API Gateway HTTP APIs (payload format 2.0) map it.
public struct HTTPTriggerResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static let apigwRequestID = HTTPField.Name("apigw-requestid")!

    /// Maps an invocation's outcome:
    ///
    /// | outcome | answer |
    /// | --- | --- |
    /// | `.response` | the function's answer, mapped by ``mapFunctionResponse(_:)`` |
    /// | function error, timeout, crash, init error, response too large, no environment | 502 `{"message":"Internal Server Error"}` |
    /// | throttled (reserved, global, reserved 0) | 429 `{"message":"Too Many Requests"}` |
    /// | the route's function does not exist | 500 `{"message":"Internal Server Error"}` |
    /// | tandem is shutting down | 503 `{"message":"Service Unavailable"}` |
    public static func make(result: InvocationResult, requestID: String) -> HTTPTriggerResponse {
        var response: HTTPTriggerResponse
        switch result.outcome {
        case .response(let buffer):
            response = mapFunctionResponse(buffer)
        case .functionError, .responseTooLarge, .failed(.timedOut), .failed(.runtimeExited), .failed(.runtimeVanished), .failed(.initFailed),
             .failed(.environmentUnavailable):
            response = message(.badGateway, "Internal Server Error")
        case .failed(.shuttingDown):
            response = message(.serviceUnavailable, "Service Unavailable")
        case .rejected(.reservedConcurrencyExceeded), .rejected(.globalConcurrencyExceeded), .rejected(.throttled):
            response = message(.tooManyRequests, "Too Many Requests")
        case .rejected(.unknownFunction):
            response = message(.internalServerError, "Internal Server Error")
        }
        response.headers[apigwRequestID] = requestID
        return response
    }

    /// API Gateway's own answers: `{"message":"…"}`.
    public static func message(_ status: HTTPResponse.Status, _ text: String, requestID: String? = nil) -> HTTPTriggerResponse {
        var writer = JSONWriter(capacity: text.utf8.count + 16)
        writer.beginObject()
        writer.field("message", text)
        writer.endObject()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let requestID { headers[apigwRequestID] = requestID }
        return HTTPTriggerResponse(status: status, headers: headers, body: writer.buffer)
    }

    /// A function's answer to an HTTP API event:
    /// - an object with `statusCode`: its `statusCode`, `headers`,
    ///   `multiValueHeaders`, `cookies` (each a `Set-Cookie`) and `body`
    ///   (base64-decoded when `isBase64Encoded`);
    /// - any other JSON: 200, `content-type: application/json`, the answer as
    ///   the body (a JSON string: its text);
    /// - not JSON, or a malformed `statusCode` object: 500 `Internal Server Error`.
    public static func mapFunctionResponse(_ buffer: ByteBuffer) -> HTTPTriggerResponse {
        let malformed = message(.internalServerError, "Internal Server Error")
        let firstByte = buffer.readableBytesView.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        guard let firstByte, buffer.withUnsafeReadableBytes({ JSONSyntax.check(buffer: $0) }) == nil else {
            return malformed
        }
        var plain = HTTPTriggerResponse(status: .ok, headers: [.contentType: "application/json"], body: buffer)
        switch firstByte {
        case UInt8(ascii: "\""):
            guard let text = try? JSONDecoder().decode(String.self, from: Data(buffer.readableBytesView)) else { return malformed }
            plain.body = ByteBuffer(string: text)
            return plain
        case UInt8(ascii: "{"):
            guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer.readableBytesView)) else {
                return malformed
            }
            guard let statusCode = object["statusCode"] else { return plain }
            return mapProxyResponse(object, statusCode: statusCode) ?? malformed
        default:
            return plain
        }
    }

    static func mapProxyResponse(_ object: [String: JSONValue], statusCode: JSONValue) -> HTTPTriggerResponse? {
        guard let code = statusCode.integer, (100...599).contains(code) else { return nil }
        var headers = HTTPFields()
        let managed: Set<String> = ["content-length", "transfer-encoding", "connection"]
        func add(_ name: String, _ value: JSONValue) -> Bool {
            guard let fieldName = HTTPField.Name(name) else { return false }
            if managed.contains(fieldName.canonicalName) { return true }
            guard let text = value.scalarText else { return value == .null }
            headers.append(HTTPField(name: fieldName, value: text))
            return true
        }
        switch object["headers"] {
        case nil, .null?: break
        case .object(let fields)?:
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) where !add(name, value) { return nil }
        default: return nil
        }
        switch object["multiValueHeaders"] {
        case nil, .null?: break
        case .object(let fields)?:
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                guard case .array(let items) = value else { return nil }
                for item in items where !add(name, item) { return nil }
            }
        default: return nil
        }
        switch object["cookies"] {
        case nil, .null?: break
        case .array(let items)?:
            for item in items {
                guard case .string(let cookie) = item else { return nil }
                headers.append(HTTPField(name: .setCookie, value: cookie))
            }
        default: return nil
        }
        let base64: Bool
        switch object["isBase64Encoded"] {
        case nil, .null?: base64 = false
        case .bool(let value)?: base64 = value
        default: return nil
        }
        var body = ByteBuffer()
        switch object["body"] {
        case nil, .null?: break
        case .string(let text)?:
            if base64 {
                guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else { return nil }
                body = ByteBuffer(bytes: data)
            } else {
                body = ByteBuffer(string: text)
            }
        case let value?:
            // Lenient: a body that is not a string is sent as its JSON text.
            body = ByteBuffer(string: value.jsonText)
        }
        return HTTPTriggerResponse(status: HTTPResponse.Status(code: code), headers: headers, body: body)
    }
}

/// Any JSON value, for reading function answers.
enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// An integer, from a whole number or a string of digits.
    var integer: Int? {
        switch self {
        case .number(let value): value == value.rounded() && abs(value) < 1e9 ? Int(value) : nil
        case .string(let text): Int(text)
        default: nil
        }
    }

    /// Strings as they are, numbers and booleans as JSON writes them.
    var scalarText: String? {
        switch self {
        case .string(let text): text
        case .bool(let value): value ? "true" : "false"
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        default: nil
        }
    }

    var jsonText: String {
        switch self {
        case .null: "null"
        case .bool, .number: scalarText ?? "null"
        case .string(let text): JSONWriter.quoted(text)
        case .array(let items): "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let fields):
            "{" + fields.sorted { $0.key < $1.key }.map { JSONWriter.quoted($0.key) + ":" + $0.value.jsonText }
                .joined(separator: ",") + "}"
        }
    }
}
