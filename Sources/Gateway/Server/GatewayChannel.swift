import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway's HTTP/1.1 connections: Hummingbird's, with NIO's pipelining
/// assistance, so that requests answered on the event loop (proxied by
/// ``GatewayHTTP1Handler``, or answered by ``GatewayFastPath``) and those
/// answered by Hummingbird never overtake each other on a connection. A
/// ``ConnectionGuard`` below the codec bounds the connections and their waits
/// and answers what the codec cannot parse. A service's request never goes
/// above ``GatewayHTTP1Handler``: the conversion to HTTPTypes and the
/// handlers after it are for the rest.
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
                withOutboundHeaderValidation: false,  // HTTPTypes validated them; a proxied answer's came parsed
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: .init())
            try channel.pipeline.syncOperations.addHandler(
                GatewayHTTP1Handler(connectionGuard: connectionGuard, routes: gateway.routes, upstreams: gateway.upstreams))
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
