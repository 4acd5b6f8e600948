import Foundation

/// Bridges Lambda-style events and HTTP for `http`-contract functions: an
/// invocation with a JSON payload (the Invoke API, a queue, a schedule) reaches
/// the function's server as an HTTP request built from an API Gateway HTTP API
/// event (payload format 2.0), and the server's answer comes back as the
/// event's result (`statusCode`, `headers`, `body`, `isBase64Encoded`).
public enum HTTPEventBridge {
    /// The request an event describes. A payload that is not an API Gateway
    /// event is sent as the body of `POST /` with `Content-Type: application/json`.
    public static func request(fromEvent payload: [UInt8]) -> ForwardedRequest {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
              let context = object["requestContext"] as? [String: Any],
              let http = context["http"] as? [String: Any],
              let method = http["method"] as? String
        else {
            return ForwardedRequest(method: "POST", path: "/", headers: [.init("Content-Type", "application/json")], body: payload)
        }
        var path = (object["rawPath"] as? String) ?? (http["path"] as? String) ?? "/"
        if !path.hasPrefix("/") { path = "/" + path }
        if let query = object["rawQueryString"] as? String, !query.isEmpty { path += "?" + query }
        var headers: [ForwardedRequest.Header] = []
        for (name, value) in (object["headers"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let value = value as? String { headers.append(.init(name, value)) }
        }
        if let cookies = object["cookies"] as? [String], !cookies.isEmpty {
            headers.append(.init("cookie", cookies.joined(separator: "; ")))
        }
        var body: [UInt8] = []
        if let text = object["body"] as? String {
            if object["isBase64Encoded"] as? Bool == true {
                body = Data(base64Encoded: text).map(Array.init) ?? []
            } else {
                body = Array(text.utf8)
            }
        }
        return ForwardedRequest(method: method.uppercased(), path: path, headers: headers, body: body)
    }

    /// The event result for an HTTP answer: text bodies as text, others base64.
    public static func eventResult(from response: ForwardedResponse) -> [UInt8] {
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for (name, value) in response.headers {
            let lowered = name.lowercased()
            if lowered == "set-cookie" {
                cookies.append(value)
            } else if let existing = headers[lowered] {
                headers[lowered] = existing + "," + value
            } else {
                headers[lowered] = value
            }
        }
        var result: [String: Any] = ["statusCode": response.status, "headers": headers]
        if !cookies.isEmpty { result["cookies"] = cookies }
        if let text = String(validating: response.body, as: UTF8.self), !isBinary(headers["content-type"]) {
            result["body"] = text
            result["isBase64Encoded"] = false
        } else {
            result["body"] = Data(response.body).base64EncodedString()
            result["isBase64Encoded"] = true
        }
        let data = (try? JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    static func isBinary(_ contentType: String?) -> Bool {
        guard let type = contentType?.lowercased() else { return false }
        let textual = ["text/", "application/json", "application/xml", "application/javascript", "+json", "+xml",
                       "application/x-www-form-urlencoded"]
        return !textual.contains { type.contains($0) }
    }
}
