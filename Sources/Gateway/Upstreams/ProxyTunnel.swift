import NIOCore

/// One side of a proxied connection after a protocol upgrade (a WebSocket's
/// `101 Switching Protocols`): from then on the bytes of each side are
/// written to the other as they come, with nothing parsed. Two of these are
/// paired, one in the client's channel (right above the ``ConnectionGuard``,
/// below the HTTP codec, which no byte reaches any more) and one in the
/// replica's (where its HTTP codec was); both channels share one event loop.
///
/// Reads: each side asks for its own, one burst at a time, while the other
/// side can take more (backpressure), and ignores the requests from above —
/// on the client's side the pipelining handler holds them until a response
/// ends, which a `101` never does. A side that closes closes the other.
final class ProxyTunnel: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The other side.
    weak var peer: ProxyTunnel?
    private var context: ChannelHandlerContext?
    private var readHeld = false
    private var closed = false
    /// Told once, when this side's channel closes.
    private let onClose: () -> Void

    init(onClose: @escaping () -> Void = {}) {
        self.onClose = onClose
    }

    /// Pairs two sides.
    static func pair(_ a: ProxyTunnel, _ b: ProxyTunnel) {
        a.peer = b
        b.peer = a
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { context.read() }
    }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes bytes of the other side to this side's peer on the network, at
    /// once: bytes can arrive outside a read burst (those a decoder handed on
    /// as it left), which no read-complete would flush.
    func send(_ bytes: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// The other side can take more: reads held for it go on.
    func resumeReading() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    /// Closes this side (the other side closed).
    func close() {
        guard !closed else { return }
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer?.send(unwrapInboundIn(data))  // consumed here: nothing above parses it any more
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let peer, !peer.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Reads are this side's own business (see the type's comment).
    func read(context: ChannelHandlerContext) {}

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { peer?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closed {
            closed = true
            onClose()
            peer?.close()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
