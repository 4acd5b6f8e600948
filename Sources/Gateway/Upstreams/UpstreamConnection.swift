import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection to a replica, as the last handler of its
/// channel (right after NIO's client codec: no conversion to HTTPTypes). It serves
/// one ``ServiceExchange`` at a time and sits in its event loop's
/// ``UpstreamConnectionPool`` between exchanges.
///
/// It passes the replica's response to its exchange, and holds the channel's
/// reads while the exchange's client cannot take more (backpressure: the
/// replica's bytes wait in the kernel, not in the gateway).
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let endpoint: UpstreamEndpoint
    /// The exchange being served, nil while pooled.
    var exchange: ServiceExchange?
    /// Requests sent on this connection before the current one: a reused
    /// connection may have been closed by the replica meanwhile.
    private(set) var served = 0
    /// When it went back to the pool.
    var idleSince = NIODeadline.now()
    private weak var pool: UpstreamConnectionPool?
    private var context: ChannelHandlerContext?
    private var readHeld = false
    /// The replica sent what is not HTTP/1.1.
    private var malformed = false

    init(endpoint: UpstreamEndpoint, pool: UpstreamConnectionPool) {
        self.endpoint = endpoint
        self.pool = pool
    }

    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: - Used by the exchange

    /// Starts serving `exchange`.
    func begin(_ exchange: ServiceExchange) {
        self.exchange = exchange
    }

    /// The current request is done; `served` counts it.
    func end() {
        exchange = nil
        served += 1
        resumeReading()
    }

    func send(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() { context?.flush() }

    func close() {
        exchange = nil
        context?.close(promise: nil)
    }

    /// Closes the connection under its exchange, which hears of it as a reset
    /// (its replica died): retried elsewhere when it may be, else a 502.
    func abandon() {
        context?.close(promise: nil)
    }

    /// The replica switched protocols: its HTTP codec goes and `tunnel` takes
    /// its place, so every byte from here on — those that came with the
    /// `101` included, which the decoder hands on as it leaves — reaches the
    /// tunnel. This handler stays last, only to hear of the close.
    func becomeTunnel(_ tunnel: ProxyTunnel) throws {
        guard let context else { throw ProxyFailure.malformed }
        exchange = nil
        readHeld = false
        let pipeline = context.pipeline.syncOperations
        try pipeline.addHandler(tunnel, position: .before(self))
        pipeline.removeHandler(try pipeline.handler(type: HTTPRequestEncoder.self), promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
    }

    /// The client can take more: reads held for it go on.
    func resumeReading() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    // MARK: - Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            // Nothing was asked: a replica talking out of turn is not reused.
            context.close(promise: nil)
            return
        }
        exchange.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstreamBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let exchange, !exchange.clientIsWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError { malformed = true }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let exchange = self.exchange
        self.exchange = nil
        pool?.closed(self)
        exchange?.upstreamClosed(malformed ? .malformed : .reset)
    }
}
