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
        if let authority {
            forwarded.append(.init("Host", authority))
            if !headers.contains(where: { $0.name.canonicalName == "x-forwarded-host" }) {
                forwarded.append(.init("X-Forwarded-Host", authority))
            }
        }
        var previousFor: String?
        for field in headers {
            let name = field.name.canonicalName
            if hopByHop.contains(name) || name == "content-length" { continue }
            if name == "x-forwarded-for" {
                previousFor = previousFor.map { "\($0), \(field.value)" } ?? field.value
                continue
            }
            forwarded.append(.init(field.name.rawName, field.value))
        }
        forwarded.append(.init("X-Forwarded-For", previousFor.map { "\($0), \(sourceIP)" } ?? sourceIP))
        if !headers.contains(where: { $0.name.canonicalName == "x-forwarded-proto" }) {
            forwarded.append(.init("X-Forwarded-Proto", "http"))
        }
        return ForwardedRequest(method: method, path: target, headers: forwarded, body: Array(body.readableBytesView))
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
