import FunctionMode
import FuzzSupport
import NIOCore
import NIOEmbedded

// The Runtime API server's request handling: the input is what a runtime sends
// on one connection (raw bytes, any number of requests), fed through the
// server's own pipeline (NIO's HTTP/1 server pipeline with error handling, then
// RuntimeAPIHandler) in an EmbeddedChannel, with a delegate that answers every
// call (its verdict taken from the request id) and delivers an event to every
// `/next`. Every request must get an answer or close the connection; none may crash.

final class Delegate: RuntimeAPIDelegate, @unchecked Sendable {
    func runtimeRequestedNext(_ env: EnvironmentID, waiter: NextWaiter) {
        waiter.deliver(NextEvent(requestID: "r-1", deadlineEpochMilliseconds: 1, functionArn: "arn:aws:lambda:us-east-1:000000000000:function:f",
                                 traceID: "Root=1-0-0", clientContext: "{}", payload: ByteBuffer(string: "{}")))
    }
    func runtimeAbandonedNext(_ env: EnvironmentID, waiter: NextWaiter) {}
    func runtimeResponded(_ env: EnvironmentID, requestID: String, body: ByteBuffer) -> RuntimeCallVerdict {
        verdict(requestID)
    }
    func runtimeReportedError(_ env: EnvironmentID, requestID: String, error: RuntimeErrorReport) -> RuntimeCallVerdict {
        _ = (error.errorType, error.errorMessage)
        return verdict(requestID)
    }
    func runtimeReportedInitError(_ env: EnvironmentID, error: RuntimeErrorReport) -> RuntimeCallVerdict { .accepted }
    func runtimeSentTooMuch(_ env: EnvironmentID, requestID: String, bytes: Int) {}

    func verdict(_ requestID: String) -> RuntimeCallVerdict {
        switch requestID.utf8.count % 3 {
        case 0: .accepted
        case 1: .forbidden
        default: .unknownRequest
        }
    }
}

let delegate = Delegate()

func fuzzOne(_ bytes: [UInt8]) {
    let channel = EmbeddedChannel()
    do {
        try RuntimeAPIServer.configure(channel, env: EnvironmentID("env-1"), delegate: delegate)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9001)).wait()
    } catch {
        fatalError("could not set up the channel: \(error)")
    }
    // Fed in two reads, split where the first byte says, as a socket may split them.
    let cut = bytes.isEmpty ? 0 : min(Int(bytes[0]), bytes.count)
    for part in [bytes[..<cut], bytes[cut...]] where !part.isEmpty && channel.isActive {
        do {
            try channel.writeInbound(ByteBuffer(bytes: part))
        } catch {
            break  // a malformed request: the error handler answered 400 and closed
        }
    }
    while let _ = try? channel.readOutbound(as: ByteBuffer.self) {}
    _ = try? channel.finish(acceptAlreadyClosed: true)
}

@main enum Main {
    static func main() { FuzzReplay.main(fuzzOne) }
}
