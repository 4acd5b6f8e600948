import NIOCore
import NIOHTTP1

/// The first handler above NIO's HTTP/1 codec and pipelining handler, so it
/// sees one request at a time, in NIO's own HTTP/1 types:
///
/// - a request on a service's route is proxied from here by a
///   ``ServiceExchange``, streamed to a replica and back, never buffered and
///   never converted to HTTPTypes (the handlers above — the conversion,
///   Hummingbird's connection state, ``GatewayFastPath`` — never see it).
///   While it runs, the connection's reads and writability go to it
///   (backpressure);
/// - every other request passes up, marked `Connection: close` when the
///   connection must close after it (see ``closesAfter(_:)``);
/// - it reports to the ``ConnectionGuard``: request heads, ends of
///   responses, and parse errors, which it keeps from Hummingbird (the guard
///   answered them); a `CONNECT` goes no further either.
final class GatewayHTTP1Handler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A request the handlers above answer: its parts pass up.
        case passing
        /// A service's request, proxied.
        case proxying(ServiceExchange)
        /// The connection switched protocols: a ``ProxyTunnel`` below the
        /// codec carries its bytes; nothing reaches this handler any more.
        case tunneling
        /// A `CONNECT` was refused: the connection is closing, nothing more is read.
        case refused
    }

    private let connectionGuard: ConnectionGuard
    private let routes: RouteBox
    private let upstreams: UpstreamRegistry
    private let dates = HTTPDateCache()
    private var state = State.idle
    /// A part went up since the last read burst ended: the handlers above get its end too.
    private var passedUp = false
    /// This event loop's connections to replicas, once a request needed one.
    private var pool: UpstreamConnectionPool?
    /// The client's address as `X-Forwarded-For` names it, once a request needed it.
    private var sourceIP: String?

    init(connectionGuard: ConnectionGuard, routes: RouteBox, upstreams: UpstreamRegistry) {
        self.connectionGuard = connectionGuard
        self.routes = routes
        self.upstreams = upstreams
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.refused, _), (.tunneling, _):
            return
        case (.idle, .head(var head)):
            if head.method == .CONNECT {
                state = .refused
                connectionGuard.connectRequested()
                return
            }
            connectionGuard.headReceived()
            let closeAfter = Self.closesAfter(head)
            if let service = service(for: head) {
                proxy(head, to: service, closeAfter: closeAfter, context: context)
                return
            }
            state = .passing
            passedUp = true
            if closeAfter {
                head.headers.replaceOrAdd(name: "Connection", value: "close")
                context.fireChannelRead(wrapInboundOut(.head(head)))
            } else {
                context.fireChannelRead(data)
            }
        case (.proxying(let exchange), .body(let bytes)):
            exchange.clientRead(.body(.byteBuffer(bytes)))
        case (.proxying(let exchange), .end(let trailers)):
            exchange.clientRead(.end(trailers))
        case (.proxying, .head):
            // The pipelining handler gives one request at a time: a broken stream.
            context.close(promise: nil)
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.passing, _), (.idle, _):
            passedUp = true
            context.fireChannelRead(data)
        }
    }

    /// The end of a read burst goes up only after parts that went up: a
    /// proxied request's burst stays here.
    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state { exchange.clientReadComplete() }
        if passedUp {
            passedUp = false
            context.fireChannelReadComplete()
        }
    }

    /// A response from above: the guard hears of its end before the end is
    /// written, since writing it may deliver the next request at once.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { connectionGuard.responseEnded() }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state {
            exchange.read()
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state, context.channel.isWritable { exchange.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state {
            state = .idle
            exchange.clientClosed()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parse = error as? HTTPParserError {
            connectionGuard.malformed(parse)
            return
        }
        context.fireErrorCaught(error)
    }

    /// Requests after which the connection must close:
    /// - an HTTP/1.0 request without `Connection: keep-alive` (ApacheBench
    ///   without `-k`, old proxies): its client expects the close, and the
    ///   version is gone once the request becomes an HTTPTypes request;
    /// - a request asking for a protocol upgrade (`Connection: upgrade` with
    ///   `Upgrade`): the HTTP/1 decoder stops parsing after it, so a next
    ///   request on the connection would never be read. On a service's route
    ///   it is proxied, and a replica's `101` turns the connection into a
    ///   tunnel; otherwise it is answered as a plain request, then closed.
    static func closesAfter(_ head: HTTPRequestHead) -> Bool {
        if head.version.major == 1, head.version.minor == 0, !head.isKeepAlive { return true }
        return head.headers.contains(name: "Upgrade")
            && head.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// The service whose route the request is on, if it is on one.
    private func service(for head: HTTPRequestHead) -> String? {
        let table = routes.current
        guard table.hasServices else { return nil }
        let uri = head.uri
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
        return table.service(method: head.method.rawValue, path: path)
    }

    private func proxy(_ head: HTTPRequestHead, to service: String, closeAfter: Bool, context: ChannelHandlerContext) {
        let pool = self.pool ?? upstreams.pool(on: context.eventLoop)
        self.pool = pool
        let sourceIP = self.sourceIP ?? context.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        self.sourceIP = sourceIP
        let exchange = ServiceExchange(
            head, service: service, closeAfter: closeAfter, sourceIP: sourceIP, client: context, registry: upstreams,
            pool: pool, dates: dates
        ) { [weak self] event in
            guard let self else { return }
            switch event {
            case .responseEnded: connectionGuard.responseEnded()
            case .over: state = .idle
            case .upgraded(let head, let replicaSide): tunnel(head, to: replicaSide, context: context)
            }
        }
        state = .proxying(exchange)
        exchange.start()
    }

    /// Joins the client's connection to the replica's tunnel: the client's side
    /// goes right above the guard, below the HTTP codec, and writes the `101`.
    private func tunnel(_ head: ByteBuffer, to replicaSide: ProxyTunnel, context: ChannelHandlerContext) {
        state = .tunneling
        let clientSide = ProxyTunnel()
        ProxyTunnel.pair(clientSide, replicaSide)
        do {
            try context.pipeline.syncOperations.addHandler(clientSide, position: .after(connectionGuard))
        } catch {
            replicaSide.close()
            context.close(promise: nil)
            return
        }
        clientSide.send(head)
    }
}
