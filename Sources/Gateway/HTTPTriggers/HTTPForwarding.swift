import Foundation
import FunctionMode
import HTTPTypes
import NIOCore

/// An http route's request as an `http`-contract function receives it — as a
/// reverse proxy would send it, not as an API Gateway event — and its answer
/// back. Hop-by-hop fields (RFC 9110 §7.6.1) stay on their own hop; `Host`
/// is the caller's (as Knative and ALB keep it), also in `X-Forwarded-Host`;
/// the caller's address goes in `X-Forwarded-For` and the scheme in
/// `X-Forwarded-Proto`.
public enum HTTPForwarding {
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    public static func request(method: String, target: String, authority: String?, headers: HTTPFields,
                               body: ByteBuffer, sourceIP: String) -> ForwardedRequest {
        var forwarded: [ForwardedRequest.Header] = []
        if let authority { forwarded.append(.init("Host", authority)) }
        for field in requestFields(headers, authority: authority, sourceIP: sourceIP) where field.name != .contentLength {
            forwarded.append(.init(field.name.rawName, field.value))
        }
        return ForwardedRequest(method: method, path: target, headers: forwarded, body: Array(body.readableBytesView))
    }

    /// A request's fields as its next hop gets them: without the hop-by-hop
    /// ones (and those its `Connection` names), with `X-Forwarded-Host` (the
    /// authority, unless a proxy before set it), `X-Forwarded-For` (the
    /// caller's address appended) and `X-Forwarded-Proto`. `Host` is not among
    /// them: it is the request's authority. The length stays (the caller
    /// removes it when it sends the body otherwise).
    static func requestFields(_ headers: HTTPFields, authority: String?, sourceIP: String) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count + 3)
        if let authority, headers[xForwardedHost] == nil {
            fields.append(HTTPField(name: xForwardedHost, value: authority))
        }
        let named = connectionOptions(headers)
        var previousFor: String?
        for field in headers {
            if isHopByHop(field.name, named: named) { continue }
            if field.name == xForwardedFor {
                previousFor = previousFor.map { "\($0), \(field.value)" } ?? field.value
                continue
            }
            fields.append(field)
        }
        fields.append(HTTPField(name: xForwardedFor, value: previousFor.map { "\($0), \(sourceIP)" } ?? sourceIP))
        if headers[xForwardedProto] == nil { fields.append(HTTPField(name: xForwardedProto, value: "http")) }
        return fields
    }

    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// Fields a `Connection` header names: hop-by-hop too (RFC 9110 §7.6.1).
    /// The usual `keep-alive` or `close` names none beyond those.
    private static func connectionOptions(_ headers: HTTPFields) -> Set<String> {
        guard let connection = headers[.connection] else { return [] }
        var named: Set<String> = []
        for option in connectionTokens(connection) where !hopByHop.contains(option) { named.insert(option) }
        return named
    }

    /// The comma-separated tokens of a `Connection` value, lower-cased (ASCII), without Foundation.
    static func connectionTokens(_ value: String) -> [String] {
        value.utf8.split(separator: UInt8(ascii: ",")).compactMap { token in
            let bytes = token.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
            guard !bytes.isEmpty else { return nil }
            return String(decoding: bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
    }

    private static func isHopByHop(_ name: HTTPField.Name, named: Set<String>) -> Bool {
        hopByHop.contains(name.canonicalName) || (!named.isEmpty && named.contains(name.canonicalName))
    }

    /// The function's answer as is (without its hop-by-hop fields; the length
    /// is the body's); when it did not answer, API Gateway's answers for the
    /// outcome (502, 429, 503…). Either way with `apigw-requestid`.
    public static func response(_ result: InvocationResult, requestID: String) -> HTTPTriggerResponse {
        guard case .response = result.outcome, let answer = result.httpResponse else {
            return HTTPTriggerResponse.make(result: result, requestID: requestID)
        }
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            guard let field = HTTPField.Name(name) else { continue }
            let canonical = field.canonicalName
            if hopByHop.contains(canonical) || canonical == "content-length" { continue }
            headers.append(HTTPField(name: field, value: value))
        }
        headers[HTTPTriggerResponse.apigwRequestID] = requestID
        let status = (100...999).contains(answer.status) ? HTTPResponse.Status(code: answer.status) : .badGateway
        return HTTPTriggerResponse(status: status, headers: headers, body: ByteBuffer(bytes: answer.body))
    }
}
