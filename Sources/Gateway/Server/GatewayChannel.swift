import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway's HTTP/1.1 connections: Hummingbird's, with ``GatewayFastPath``
/// in front of the responder and NIO's pipelining assistance, so that a
/// request answered on the event loop and one answered by Hummingbird never
/// overtake each other on a connection. A ``ConnectionGuard`` below the codec
/// bounds the connections and their waits and answers what the codec cannot parse.
struct GatewayChannel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let gateway: GatewayResponder
    let limits: ConnectionLimits
    let counters: ConnectionCounters

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let connectionGuard = ConnectionGuard(limits: limits, counters: counters)
            try channel.pipeline.syncOperations.addHandler(connectionGuard)
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: true,
                withErrorHandling: false,  // the connection guard answers malformed requests
                withOutboundHeaderValidation: false,  // HTTPTypes validated them
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: .init())
            try channel.pipeline.syncOperations.addHandler(RequestPhaseObserver(connectionGuard: connectionGuard))
            try channel.pipeline.syncOperations.addHandler(ConnectionCloseMarker())
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            try channel.pipeline.syncOperations.addHandler(GatewayFastPath(responder: gateway))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                       configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

/// Requests after which the connection must close, said as `Connection:
/// close` — which both the fast path (it passes such a request on) and
/// Hummingbird (it closes after answering) understand:
/// - an HTTP/1.0 request without `Connection: keep-alive` (ApacheBench without
///   `-k`, old proxies): its client expects the close, and the version is gone
///   once the request becomes an HTTPTypes request;
/// - a request asking for a protocol upgrade (`Connection: upgrade` with
///   `Upgrade`): the HTTP/1 decoder stops parsing after it, so a next request
///   on the connection would never be read. The gateway upgrades nothing; it
///   answers the request as a plain one and closes.
final class ConnectionCloseMarker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), Self.closesAfter(head) {
            head.headers.replaceOrAdd(name: "Connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    static func closesAfter(_ head: HTTPRequestHead) -> Bool {
        if head.version.major == 1, head.version.minor == 0, !head.isKeepAlive { return true }
        return head.headers.contains(name: "Upgrade")
            && head.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "upgrade" }
    }
}
