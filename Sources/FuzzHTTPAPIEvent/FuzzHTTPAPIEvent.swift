import Foundation
import FuzzSupport
import Gateway
import HTTPTypes
import NIOCore

// The API Gateway event mapping, request side: the input is a whole HTTP/1
// request to an http route; it is matched against a few routes (literal,
// `{param}`, `{proxy+}`, ANY) and turned into the HTTP API (2.0) event a
// lambda-contract function receives. Checked: the event is always one JSON
// object, and its rawPath is the request's path.

let routes: RouteTable = {
    do {
        return try RouteTable([
            GatewayRoute(methods: ["GET"], path: "/items/{id}", target: .function("items")),
            GatewayRoute(methods: ["POST", "PUT"], path: "/items", target: .function("items")),
            GatewayRoute(path: "/files/{proxy+}", target: .function("files")),
            GatewayRoute(path: "/{proxy+}", target: .function("all")),
            GatewayRoute(path: "/", target: .function("root")),
        ])
    } catch {
        fatalError("the fuzz target's routes: \(error)")
    }
}()

func fuzzOne(_ bytes: [UInt8]) {
    guard let request = RawHTTPRequest(bytes), let match = routes.match(method: request.method, path: request.path) else { return }
    var headers = HTTPFields()
    var authority: String?
    for (name, value) in request.headers {
        guard let name = HTTPField.Name(name) else { continue }  // refused by the HTTP server before the gateway
        if name.canonicalName == "host", authority == nil {
            authority = value
            continue
        }
        headers.append(HTTPField(name: name, value: value))
    }
    let trigger = HTTPTriggerRequest(method: request.method, path: request.path, query: request.query ?? "",
                                     authority: authority, headers: headers, body: ByteBuffer(bytes: request.body))
    let event = HTTPAPIEvent.make(trigger, match: match, requestID: "fuzz-request", epochMilliseconds: 1_700_000_000_000)
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: Data(event.readableBytesView))
    } catch {
        fatalError("the event is not JSON (\(error)): \(String(decoding: event.readableBytesView, as: UTF8.self))")
    }
    guard let event = object as? [String: Any] else { fatalError("the event is not a JSON object") }
    precondition(event["rawPath"] as? String == request.path, "rawPath is not the request's path")
}

@main enum Main {
    static func main() { FuzzReplay.main(fuzzOne) }
}
