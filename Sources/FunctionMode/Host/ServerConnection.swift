import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The controller's connection to one `http`-contract environment's server,
/// over NIO on the controller's own event loops: a request is written and its
/// answer read without a thread or task hop, and the connection is kept for
/// the next request unless the server closes it. An environment serves one
/// request at a time, so one connection is all it needs.
final class ServerConnection: Sendable {
    let host: String
    let port: Int
    private let group: any EventLoopGroup
    /// The kept connection, and whether the environment is gone (then
    /// nothing is kept any more).
    private let state = NIOLockedValueBox<(idle: (any Channel)?, closed: Bool)>((nil, false))

    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// The connection ended before any of the answer arrived.
        var beforeAnswer = false
    }

    init(group: any EventLoopGroup, host: String, port: Int) {
        self.group = group
        self.host = host
        self.port = port
    }

    /// Sends a request and calls `completion` once with the answer or the
    /// failure, on an event loop.
    func send(_ request: ForwardedRequest, completion: @escaping @Sendable (Result<ForwardedResponse, any Error>) -> Void) {
        let (kept, closed) = state.withLockedValue { state in
            defer { state.idle = nil }
            return (state.idle, state.closed)
        }
        if closed {
            return completion(.failure(Failure(description: "the environment's connection is closed")))
        }
        if let channel = kept, channel.isActive {
            // A kept connection the server has meanwhile closed fails before any
            // answer: the request then goes once more on a fresh connection.
            return write(request, on: channel) { result in
                if case .failure(let error as Failure) = result, error.beforeAnswer {
                    self.connect(request, completion: completion)
                } else {
                    completion(result)
                }
            }
        }
        connect(request, completion: completion)
    }

    private func connect(_ request: ForwardedRequest,
                         completion: @escaping @Sendable (Result<ForwardedResponse, any Error>) -> Void) {
        // The environment's address is an IP literal: no resolver, no Happy
        // Eyeballs (they cost more than the request itself).
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            return completion(.failure(error))
        }
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(to: address)
            .whenComplete { result in
                switch result {
                case .success(let channel): self.write(request, on: channel, completion: completion)
                case .failure(let error): completion(.failure(error))
                }
            }
    }

    /// Closes the kept connection; later requests fail.
    func close() {
        let kept = state.withLockedValue { state in
            defer { state = (nil, true) }
            return state.idle
        }
        kept?.close(promise: nil)
    }

    private func write(_ request: ForwardedRequest, on channel: any Channel,
                       completion: @escaping @Sendable (Result<ForwardedResponse, any Error>) -> Void) {
        var headers = HTTPHeaders()
        var hasHost = false
        for header in request.headers {
            if header.name.lowercased() == "host" { hasHost = true }
            headers.add(name: header.name, value: header.value)
        }
        if !hasHost { headers.add(name: "Host", value: "\(host):\(port)") }
        headers.replaceOrAdd(name: "Content-Length", value: String(request.body.count))
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: request.path,
                                   headers: headers)
        let body = channel.allocator.buffer(bytes: request.body)
        let promise = channel.eventLoop.makePromise(of: ForwardedResponse.self)
        promise.futureResult.whenComplete { result in
            let kept = channel.isActive && (try? result.get())?.closesConnection == false
                && self.state.withLockedValue { state in
                    guard !state.closed else { return false }
                    state.idle = channel
                    return true
                }
            if !kept { channel.close(promise: nil) }
            completion(result)
        }
        channel.eventLoop.execute {
            do {
                try channel.pipeline.syncOperations.handler(type: ResponseCollector.self).expect(promise)
            } catch {
                return promise.fail(error)
            }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if body.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { promise.fail($0) }
        }
    }
}

extension ForwardedResponse {
    /// The server said it closes the connection after this answer.
    var closesConnection: Bool {
        headers.contains { $0.name.lowercased() == "connection" && $0.value.lowercased().contains("close") }
    }
}

/// Collects one response at a time into a ``ForwardedResponse``.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var promise: EventLoopPromise<ForwardedResponse>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func expect(_ promise: EventLoopPromise<ForwardedResponse>) {
        self.promise = promise
        head = nil
        body = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
        case .body(let chunk):
            body.append(contentsOf: chunk.readableBytesView)
        case .end:
            guard let head, let promise else { return }
            self.promise = nil
            promise.succeed(ForwardedResponse(
                status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: body))
            body = []
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ServerConnection.Failure(description: "the function's server closed the connection before answering",
                                      beforeAnswer: head == nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        if let promise {
            self.promise = nil
            promise.fail(error)
        }
    }
}
