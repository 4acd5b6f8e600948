import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A replica for the proxy tests: a plain NIO HTTP/1.1 server on 127.0.0.1
/// that answers every request the same way and counts what it saw.
final class TestUpstream: Sendable {
    enum Behavior: Sendable {
        /// 200 with `<name> <method> <uri>` and the request's body after it.
        case echo
        /// Like `echo`, after a pause.
        case slow(Duration)
        /// 200 with the number of body bytes received; reads at most one
        /// buffer a millisecond, so a gateway without backpressure would pile the body up.
        case count
        /// A chunked `text/event-stream`: `events` events, `pause` apart.
        case events(Int, pause: Duration)
        /// 200 with `size` bytes, closing the connection after them: each
        /// megabyte is written once the one before has gone into the socket.
        case download(Int)
        /// Like `echo`, then closes the kept-alive connection `after` the answer
        /// (a replica's own idle timeout).
        case closeAfter(Duration)
    }

    struct Stats: Sendable {
        var connections = 0
        var requests = 0
        var bodyBytes = 0
        var inFlight = 0
        var maxInFlight = 0
        var lastHead: HTTPRequestHead?
        /// When the last response ended.
        var lastEnd: ContinuousClock.Instant?
    }

    let name: String
    let port: Int
    private let channel: any Channel
    private let box: StatsBox

    private init(name: String, port: Int, channel: any Channel, box: StatsBox) {
        self.name = name
        self.port = port
        self.channel = channel
        self.box = box
    }

    static func start(_ name: String, _ behavior: Behavior = .echo) async throws -> TestUpstream {
        let box = StatsBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                box.stats.withLock { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    if case .count = behavior { try channel.pipeline.syncOperations.addHandler(SlowReader()) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(name: name, behavior: behavior, box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestUpstream(name: name, port: channel.localAddress!.port!, channel: channel, box: box)
    }

    func stop() async throws { try await channel.close() }

    var snapshot: Stats { box.stats.withLock { $0 } }

    /// A port nothing listens on (bound, then closed): connecting is refused.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

private final class StatsBox: Sendable {
    let stats = Mutex(TestUpstream.Stats())
}

/// Lets one read through a millisecond.
private final class SlowReader: ChannelOutboundHandler {
    typealias OutboundIn = Any
    func read(context: ChannelHandlerContext) {
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(1)) { context.value.read() }
    }
}

private final class Responder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let name: String
    let behavior: TestUpstream.Behavior
    let box: StatsBox
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var received = 0

    init(name: String, behavior: TestUpstream.Behavior, box: StatsBox) {
        self.name = name
        self.behavior = behavior
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            received = 0
            box.stats.withLock {
                $0.requests += 1
                $0.inFlight += 1
                $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
                $0.lastHead = head
            }
        case .body(var chunk):
            received += chunk.readableBytes
            box.stats.withLock { $0.bodyBytes += chunk.readableBytes }
            if case .count = behavior { return }
            body.writeBuffer(&chunk)
        case .end:
            respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        guard let head else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        switch behavior {
        case .echo:
            answer(echo(head), context: context)
        case .count:
            answer(ByteBuffer(string: "\(received)"), context: context)
        case .slow(let pause):
            let reply = echo(head)
            context.eventLoop.scheduleTask(in: TimeAmount(pause)) {
                let (handler, context) = bound.value
                handler.answer(reply, context: context)
            }
        case .closeAfter(let delay):
            answer(echo(head), context: context)
            let channel = context.channel
            context.eventLoop.scheduleTask(in: TimeAmount(delay)) { channel.close(promise: nil) }
        case .download(let size):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "\(size)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            sendBlock(remaining: size, context: context)
        case .events(let count, let pause):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                                  promise: nil)
            sendEvent(0, of: count, pause: pause, context: context)
        }
    }

    private func sendBlock(remaining: Int, context: ChannelHandlerContext) {
        guard remaining > 0 else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            ended()
            return
        }
        let size = min(remaining, 1024 * 1024)
        let block = ByteBuffer(repeating: 0x62, count: size)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(block)))).whenSuccess {
            let (handler, context) = bound.value
            handler.sendBlock(remaining: remaining - size, context: context)
        }
    }

    private func sendEvent(_ index: Int, of count: Int, pause: Duration, context: ChannelHandlerContext) {
        guard index < count else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            ended()
            return
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: \(index)\n\n")))), promise: nil)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: TimeAmount(pause)) {
            let (handler, context) = bound.value
            handler.sendEvent(index + 1, of: count, pause: pause, context: context)
        }
    }

    private func echo(_ head: HTTPRequestHead) -> ByteBuffer {
        var reply = ByteBuffer(string: "\(name) \(head.method.rawValue) \(head.uri)")
        if body.readableBytes > 0 {
            reply.writeString(" ")
            reply.writeImmutableBuffer(body)
        }
        return reply
    }

    private func answer(_ reply: ByteBuffer, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "\(reply.readableBytes)")
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "X-Replica", value: name)
        headers.add(name: "Keep-Alive", value: "timeout=5")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        if head?.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(reply))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        ended()
    }

    private func ended() {
        box.stats.withLock {
            $0.inFlight -= 1
            $0.lastEnd = .now
        }
    }
}
