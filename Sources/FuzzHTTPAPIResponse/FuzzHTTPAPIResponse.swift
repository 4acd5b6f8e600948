import FuzzSupport
import Gateway
import HTTPTypes
import NIOCore

// The API Gateway event mapping, response side: the input is a function's
// answer to an HTTP API event (any bytes: a `{"statusCode":…}` proxy response,
// other JSON, or not JSON), mapped to the HTTP response the route's caller gets.
// Every input must give a response with a valid status.

func fuzzOne(_ bytes: [UInt8]) {
    let response = HTTPTriggerResponse.mapFunctionResponse(ByteBuffer(bytes: bytes))
    precondition((100...599).contains(response.status.code), "status \(response.status.code)")
    for field in response.headers {
        precondition(!["content-length", "transfer-encoding", "connection"].contains(field.name.canonicalName),
                     "the function set \(field.name), which the gateway manages")
    }
}

@main enum Main {
    static func main() { FuzzReplay.main(fuzzOne) }
}
