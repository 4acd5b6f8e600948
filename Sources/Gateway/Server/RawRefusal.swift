import HTTPTypes
import NIOCore

/// A refusal written as raw HTTP/1.1 bytes, below the HTTP codec: for the
/// moments the codec cannot answer (the request could not be parsed, its head
/// never came). The same JSON error as every other refusal, with its length,
/// and `Connection: close`, since the connection ends after it.
enum RawRefusal {
    static func bytes(_ error: LambdaAPIError, requestID: String, date: String,
                      headers extra: [(name: String, value: String)] = []) -> ByteBuffer {
        let body = error.body
        let status = HTTPResponse.Status(code: error.status)
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        head += "Content-Type: application/json\r\n"
        head += "\(LambdaInvokeAPI.Header.errorType.rawName): \(error.errorType)\r\n"
        head += "\(LambdaInvokeAPI.Header.requestID.rawName): \(requestID)\r\n"
        head += "Date: \(date)\r\n"
        for field in extra { head += "\(field.name): \(field.value)\r\n" }
        head += "Content-Length: \(body.readableBytes)\r\n"
        head += "Connection: close\r\n\r\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + body.readableBytes)
        buffer.writeString(head)
        var body2 = body
        buffer.writeBuffer(&body2)
        return buffer
    }
}
