import Foundation
import HTTPTypes
import NIOCore

/// One request that matched an http route, as the gateway saw it.
public struct HTTPTriggerRequest: Sendable {
    public var method: String
    /// The path without the query, as sent (percent-encoded).
    public var path: String
    /// The query string after `?`, as sent; empty when none.
    public var query: String
    /// `Host` (HTTP/1) or `:authority` (HTTP/2).
    public var authority: String?
    public var headers: HTTPFields
    public var body: ByteBuffer
    public var sourceIP: String
    public var protocolName: String

    public init(method: String, path: String, query: String = "", authority: String? = nil, headers: HTTPFields = [:],
                body: ByteBuffer = ByteBuffer(), sourceIP: String = "127.0.0.1", protocolName: String = "HTTP/1.1") {
        self.method = method
        self.path = path
        self.query = query
        self.authority = authority
        self.headers = headers
        self.body = body
        self.sourceIP = sourceIP
        self.protocolName = protocolName
    }
}

/// The API Gateway HTTP API event (payload format 2.0) a lambda-contract
/// function receives for an http route.
public enum HTTPAPIEvent {
    /// The event's JSON, written directly (no encoder): `version`, `routeKey`,
    /// `rawPath`, `rawQueryString`, `cookies`, `headers`, `queryStringParameters`,
    /// `requestContext`, `body`, `pathParameters`, `isBase64Encoded`. Optional
    /// fields are left out when empty, as API Gateway does.
    public static func make(
        _ request: HTTPTriggerRequest, match: RouteMatch, requestID: String, epochMilliseconds: Int64,
        account: LambdaAccount = LambdaAccount(), apiID: String = "tandem"
    ) -> ByteBuffer {
        var writer = JSONWriter(capacity: 1024 + request.body.readableBytes * 4 / 3)
        writer.beginObject()
        writer.field("version", "2.0")
        writer.field("routeKey", match.routeKey)
        writer.field("rawPath", request.path)
        writer.field("rawQueryString", request.query)

        // Headers: lower-case names, repeated values joined with commas;
        // cookies go to their own field.
        var names: [String] = []
        var values: [String: String] = [:]
        var cookies: [String] = []
        func add(_ name: String, _ value: String) {
            if let existing = values[name] {
                values[name] = existing + "," + value
            } else {
                names.append(name)
                values[name] = value
            }
        }
        if let authority = request.authority { add("host", authority) }
        var userAgent = ""
        var contentType: String?
        for field in request.headers {
            let name = field.name.canonicalName
            switch name {
            case "cookie":
                for cookie in field.value.split(separator: ";") {
                    let trimmed = cookie.trimmingCharacters(in: .whitespaces)
                    if !trimmed.isEmpty { cookies.append(trimmed) }
                }
                continue
            case "user-agent" where userAgent.isEmpty: userAgent = field.value
            case "content-type" where contentType == nil: contentType = field.value
            default: break
            }
            add(name, field.value)
        }
        if !cookies.isEmpty {
            writer.key("cookies")
            writer.beginArray()
            for cookie in cookies { writer.string(cookie) }
            writer.endArray()
        }
        writer.key("headers")
        writer.beginObject()
        for name in names { writer.field(name, values[name] ?? "") }
        writer.endObject()

        let parameters = queryParameters(request.query)
        if !parameters.isEmpty {
            writer.key("queryStringParameters")
            writer.beginObject()
            for (name, value) in parameters { writer.field(name, value) }
            writer.endObject()
        }

        writer.key("requestContext")
        writer.beginObject()
        writer.field("accountId", account.account)
        writer.field("apiId", apiID)
        let domain = request.authority ?? "localhost"
        writer.field("domainName", domain)
        writer.field("domainPrefix", domainPrefix(domain))
        writer.key("http")
        writer.beginObject()
        writer.field("method", request.method)
        writer.field("path", request.path)
        writer.field("protocol", request.protocolName)
        writer.field("sourceIp", request.sourceIP)
        writer.field("userAgent", userAgent)
        writer.endObject()
        writer.field("requestId", requestID)
        writer.field("routeKey", match.routeKey)
        writer.field("stage", "$default")
        writer.field("time", formatTime(epochMilliseconds: epochMilliseconds))
        writer.field("timeEpoch", epochMilliseconds)
        writer.endObject()

        let binary = request.body.readableBytes > 0 && isBinary(contentType: contentType, body: request.body)
        if request.body.readableBytes > 0 {
            writer.key("body")
            if binary {
                writer.string(Data(request.body.readableBytesView).base64EncodedString())
            } else {
                writer.string(utf8: request.body.readableBytesView)
            }
        }
        if !match.pathParameters.isEmpty {
            writer.key("pathParameters")
            writer.beginObject()
            for (name, value) in match.pathParameters { writer.field(name, value) }
            writer.endObject()
        }
        writer.field("isBase64Encoded", binary)
        writer.endObject()
        return writer.buffer
    }

    /// Query parameters, percent-decoded, repeated names joined with commas,
    /// in order of first appearance.
    public static func queryParameters(_ query: String) -> [(name: String, value: String)] {
        guard !query.isEmpty else { return [] }
        var order: [String] = []
        var values: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Percent.decodeLeniently(parts[0])
            let value = parts.count > 1 ? Percent.decodeLeniently(parts[1]) : ""
            if let existing = values[name] {
                values[name] = existing + "," + value
            } else {
                order.append(name)
                values[name] = value
            }
        }
        return order.map { ($0, values[$0] ?? "") }
    }

    /// A body is sent base64 when its content type is not text, or when it is
    /// not UTF-8.
    public static func isBinary(contentType: String?, body: ByteBuffer) -> Bool {
        if let contentType, !isTextual(contentType) { return true }
        return String(validating: body.readableBytesView, as: UTF8.self) == nil
    }

    static func isTextual(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";", maxSplits: 1).first?
            .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if type.isEmpty || type.hasPrefix("text/") { return true }
        if type.hasSuffix("+json") || type.hasSuffix("+xml") { return true }
        return [
            "application/json", "application/xml", "application/javascript", "application/x-javascript",
            "application/ecmascript", "application/graphql", "application/yaml", "application/x-yaml",
            "application/x-ndjson",
        ].contains(type)
    }

    /// `api.example.com` → `api`; `127.0.0.1:8080` → `127`.
    static func domainPrefix(_ domain: String) -> String {
        let host = domain.split(separator: ":", maxSplits: 1).first.map(String.init) ?? domain
        return host.split(separator: ".", maxSplits: 1).first.map(String.init) ?? host
    }

    /// API Gateway's `time`: `12/Mar/2020:19:03:58 +0000` (UTC).
    public static func formatTime(epochMilliseconds: Int64) -> String {
        let seconds = epochMilliseconds >= 0 ? epochMilliseconds / 1000 : (epochMilliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = CivilDate.fromDays(days)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day))/\(months[Int(month - 1)])/\(year):\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60)) +0000"
    }
}
