import FuzzSupport
import Gateway
import HTTPTypes
import NIOCore

// The Invoke API request parsing: the input is a whole HTTP/1 request as a
// client sends it (`POST /2015-03-31/functions/NAME/invocations?Qualifier=…`,
// the X-Amz-* headers, the payload), split leniently and checked by
// InvokeRequest.parse. Every input must be accepted or refused with a Lambda
// error; an accepted one names a function and carries a JSON payload.

func fuzzOne(_ bytes: [UInt8]) {
    guard let request = RawHTTPRequest(bytes) else { return }
    var headers = HTTPFields()
    for (name, value) in request.headers {
        guard let name = HTTPField.Name(name) else { continue }  // refused by the HTTP server before the gateway
        headers.append(HTTPField(name: name, value: value))
    }
    let result = InvokeRequest.parse(method: request.method, path: request.path, query: request.query,
                                     headers: headers, body: ByteBuffer(bytes: request.body))
    switch result {
    case .success(let invoke):
        precondition(!invoke.functionName.isEmpty, "an accepted request names no function")
        precondition(invoke.payload.readableBytes > 0, "an accepted request has no payload")
    case .failure(let error):
        _ = error.description
    }
}

@main enum Main {
    static func main() { FuzzReplay.main(fuzzOne) }
}
