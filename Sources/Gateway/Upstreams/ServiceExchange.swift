import NIOCore
import NIOHTTP1

/// One request of a service, proxied on its client connection's event loop
/// to a replica and the answer back, streamed both ways: neither body is ever
/// held whole. ``GatewayHTTP1Handler`` hands it the request's parts, the
/// connection's reads and writability; its ``UpstreamConnection`` hands it the
/// replica's answer. Both sides stay in NIO's HTTP/1 types, as the codecs
/// give and take them: a proxied request's head is never converted.
///
/// Backpressure: the client's reads are held while no replica connection is
/// ready (waiting in the queue, connecting) or while it cannot take more; the
/// replica's reads while the client cannot take more.
///
/// A failure before any response byte is retried when that is safe: on a fresh
/// connection when a pooled one turns out closed (the keep-alive race), on
/// another replica once for an idempotent request — both only while no body
/// byte has gone out. Otherwise the client gets 502/503/504 as JSON, or, once
/// the response has begun, a closed connection.
final class ServiceExchange {
    private enum Phase {
        /// In the service's queue for a replica below its limit.
        case waiting(ticket: UInt64, timer: Scheduled<Void>)
        /// A replica was leased; its connection is being opened.
        case connecting(UpstreamLease)
        /// The request is going out; no response head yet.
        case sent(UpstreamLease, UpstreamConnection)
        /// The response head was passed on; its body is streaming.
        case responding(UpstreamLease, UpstreamConnection)
        /// The replica answered an upgrade with `101`; its end comes next.
        case switching(UpstreamLease, UpstreamConnection, HTTPResponseHead)
        /// Bytes flow both ways through a ``ProxyTunnel`` until either side closes.
        case tunneling(UpstreamLease)
        case finished
    }

    private let client: ChannelHandlerContext
    private let registry: UpstreamRegistry
    private let pool: UpstreamConnectionPool
    private let service: String
    /// The request as the replica gets it.
    private var request: HTTPRequestHead
    private let idempotent: Bool
    /// The protocol the client asks to switch to (`websocket`), when it asks.
    private let upgrade: String?
    private var expectsContinue: Bool
    /// The client asked for the connection to close after this answer (or is HTTP/1.0, or asked to upgrade).
    private var closeClient: Bool
    private let dates: HTTPDateCache
    /// Told when the response ended, and when the exchange is over and the
    /// connection may serve the next request.
    private let report: (ExchangeEvent) -> Void

    /// What an exchange tells its connection.
    enum ExchangeEvent {
        /// The response's end was written.
        case responseEnded
        /// Request and response are both done.
        case over
        /// The replica switched protocols: the `101` to write to the client
        /// and the replica's side of the tunnel, to pair with the client's.
        case upgraded(ByteBuffer, ProxyTunnel)
    }

    private var phase: Phase
    /// Body parts and the end not yet sent to the replica.
    private var pending = CircularBuffer<HTTPClientRequestPart>()
    private var requestEnded = false
    private var bodySent = false
    /// Endpoints this request failed on.
    private var failedOn: Set<String> = []
    private var responseTimer: Scheduled<Void>?
    private var clientReadHeld = false
    private var replicaKeepsAlive = true

    /// Proxies `head` (already matched to `service`) once ``start()`` is
    /// called; `report` hears of its end.
    /// - Parameters:
    ///   - closeAfter: the connection closes after the answer whatever the
    ///     request says (an upgrade was asked for).
    ///   - sourceIP: the client's address, for `X-Forwarded-For`.
    init(_ head: HTTPRequestHead, service: String, closeAfter: Bool, sourceIP: String, client: ChannelHandlerContext,
         registry: UpstreamRegistry, pool: UpstreamConnectionPool, dates: HTTPDateCache,
         report: @escaping (ExchangeEvent) -> Void) {
        self.client = client
        self.registry = registry
        self.pool = pool
        self.service = service
        self.dates = dates
        self.report = report
        // Idempotent methods (RFC 9110 §9.2.2): such a request may go to another replica after a failure.
        switch head.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE: self.idempotent = true
        default: self.idempotent = false
        }
        self.expectsContinue = ProxyHeaders.first("expect", in: head.headers)
            .map { ProxyHeaders.equalsIgnoringCase($0, "100-continue") } ?? false
        self.closeClient = closeAfter || !head.isKeepAlive
        self.phase = .finished
        let upgrade = ProxyHeaders.first("upgrade", in: head.headers)
        self.upgrade = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" } ? upgrade : nil

        var forwarded = ProxyHeaders.request(head.headers, sourceIP: sourceIP)
        if let upgrade = self.upgrade {
            // Hop-by-hop, so dropped above: an upgrade asks this hop too.
            forwarded.add(name: "connection", value: "Upgrade")
            forwarded.add(name: "upgrade", value: upgrade)
        }
        if head.headers.contains(name: "transfer-encoding") {
            // Hop-by-hop, so dropped above; the body is framed again, chunked, whatever the method.
            forwarded.remove(name: "content-length")
            forwarded.add(name: "transfer-encoding", value: "chunked")
        } else if !head.headers.contains(name: "content-length") {
            switch head.method {
            case .POST, .PUT, .PATCH:
                forwarded.add(name: "content-length", value: "0")  // no body: not a chunked empty one, as NIO's encoder would send
            default:
                break
            }
        }
        self.request = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: forwarded)
    }

    /// Asks for a replica: the request goes out, waits in the queue, or is answered 503.
    func start() { acquire() }

    // MARK: - The client's side

    /// A part of the request's body, or its end.
    func clientRead(_ part: HTTPClientRequestPart) {
        if case .end = part { requestEnded = true }
        switch phase {
        case .sent(_, let connection), .responding(_, let connection):
            send(part, on: connection)
            if case .end = part { connection.flush() }
        case .waiting, .connecting:
            pending.append(part)
        case .switching, .tunneling:
            break  // an upgrade request has no body; the tunnel carries what follows
        case .finished:
            if requestEnded { report(.over) }  // the rest of a request answered early
        }
    }

    func clientReadComplete() {
        switch phase {
        case .sent(_, let connection), .responding(_, let connection): connection.flush()
        default: break
        }
    }

    /// The connection wants to read: held while the body would have nowhere to go.
    func read() {
        let ready: Bool
        switch phase {
        case .sent(_, let connection), .responding(_, let connection): ready = connection.isWritable
        case .waiting, .connecting: ready = requestEnded
        case .switching, .tunneling: ready = false  // the tunnel reads for itself
        case .finished: ready = true
        }
        if ready { client.read() } else { clientReadHeld = true }
    }

    var clientIsWritable: Bool { client.channel.isWritable }

    func clientBecameWritable() {
        switch phase {
        case .responding(_, let connection), .sent(_, let connection): connection.resumeReading()
        default: break
        }
    }

    /// The client went away: whatever is under way is dropped.
    func clientClosed() {
        switch phase {
        case .waiting(let ticket, let timer):
            timer.cancel()
            _ = registry.cancelWait(service, ticket: ticket)  // if granted meanwhile, `granted` releases it
        case .connecting(let lease):
            registry.release(lease)
        case .sent(let lease, let connection), .responding(let lease, let connection), .switching(let lease, let connection, _):
            connection.close()
            registry.release(lease)
        case .tunneling, .finished:
            return  // the tunnel closes the other side and ends the exchange
        }
        phase = .finished
        responseTimer?.cancel()
    }

    // MARK: - The replica's side

    func upstreamRead(_ part: HTTPClientResponsePart) {
        switch (phase, part) {
        case (.sent(let lease, let connection), .head(let response)) where response.status == .switchingProtocols && upgrade != nil:
            phase = .switching(lease, connection, response)
            // The decoder may stop at the head (it stops parsing at an
            // upgrade): switch once its read is over, unless its end comes first.
            client.eventLoop.assumeIsolated().execute { [self] in
                if case .switching(let lease, let connection, let response) = phase { switchProtocols(lease, connection, response) }
            }
        case (.switching(let lease, let connection, let response), .end):
            switchProtocols(lease, connection, response)
        case (.sent(let lease, let connection), .head(let response)):
            guard response.status.code >= 200 else { return }  // Expect is answered here
            responseTimer?.cancel()
            phase = .responding(lease, connection)
            replicaKeepsAlive = response.isKeepAlive
            var head = HTTPResponseHead(version: .http1_1, status: response.status, headers: ProxyHeaders.response(response.headers))
            if !head.headers.contains(name: "date") { head.headers.add(name: "date", value: dates.now()) }
            if closeClient { head.headers.replaceOrAdd(name: "connection", value: "close") }
            client.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        case (.responding, .body(let bytes)):
            client.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(bytes))), promise: nil)
        case (.responding(let lease, let connection), .end(let trailers)):
            phase = .finished
            let reusable = replicaKeepsAlive && requestEnded && pending.isEmpty
            connection.end()
            if reusable { pool.putBack(connection) } else { connection.close() }
            registry.release(lease)
            finish(with: .end(trailers))
        default:
            // A body before a head, or anything once finished: the stream is broken.
            upstreamClosed(.malformed)
        }
    }

    func upstreamReadComplete() {
        if case .responding = phase { client.flush() }
    }

    func upstreamBecameWritable() {
        if clientReadHeld {
            clientReadHeld = false
            client.read()
        }
    }

    /// The replica's connection closed or failed.
    func upstreamClosed(_ failure: ProxyFailure) {
        switch phase {
        case .sent(let lease, let connection):
            connection.close()
            failedBeforeResponse(failure, lease: lease, freshConnection: connection.served == 0)
        case .responding(let lease, let connection), .switching(let lease, let connection, _):
            // Part of the answer went out: the client can only see it cut short.
            phase = .finished
            connection.close()
            registry.release(lease)
            responseTimer?.cancel()
            client.close(promise: nil)
        case .waiting, .connecting, .tunneling, .finished:
            break
        }
    }

    // MARK: - Internals

    /// The replica's `101` is complete: its connection becomes one side of a
    /// tunnel, and the connection's handler writes the `101` (as the replica
    /// sent it, `Upgrade` and `Sec-WebSocket-Accept` included) and adds the
    /// client's side. The replica stays leased (in flight) until either side closes.
    private func switchProtocols(_ lease: UpstreamLease, _ connection: UpstreamConnection, _ response: HTTPResponseHead) {
        responseTimer?.cancel()
        responseTimer = nil
        let tunnel = ProxyTunnel { [self] in tunnelClosed(lease) }
        do {
            try connection.becomeTunnel(tunnel)
        } catch {
            return upstreamClosed(.malformed)
        }
        phase = .tunneling(lease)
        var head = ByteBuffer()
        head.writeString("HTTP/1.1 101 \(response.status.reasonPhrase)\r\n")
        for (name, value) in response.headers { head.writeString("\(name): \(value)\r\n") }
        head.writeString("\r\n")
        report(.upgraded(head, tunnel))
    }

    /// Either side of the tunnel closed (the tunnel closes the other).
    private func tunnelClosed(_ lease: UpstreamLease) {
        guard case .tunneling = phase else { return }
        phase = .finished
        registry.release(lease)
    }

    private func acquire() {
        let bound = NIOLoopBound(self, eventLoop: client.eventLoop)
        let acquisition = registry.acquire(service, excluding: failedOn) { result in
            bound.eventLoop.execute { bound.value.granted(result) }
        }
        switch acquisition {
        case .leased(let lease):
            dispatch(lease)
        case .queued(let ticket, let wait):
            let timer = client.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(wait)) { [self] in
                guard case .waiting(let current, _) = phase, current == ticket, registry.cancelWait(service, ticket: ticket)
                else { return }
                fail(.queueTimeout(wait))
            }
            phase = .waiting(ticket: ticket, timer: timer)
        case .refused(let failure):
            fail(failure)
        }
    }

    /// A queued request's replica, or why it has none.
    private func granted(_ result: Result<UpstreamLease, ProxyFailure>) {
        guard case .waiting(_, let timer) = phase else {
            if case .success(let lease) = result { registry.release(lease) }  // the exchange ended meanwhile
            return
        }
        timer.cancel()
        switch result {
        case .success(let lease): dispatch(lease)
        case .failure(let failure): fail(failure)
        }
    }

    /// Sends the request to the leased replica: on a pooled connection if one is open.
    private func dispatch(_ lease: UpstreamLease) {
        if responseTimer == nil {
            responseTimer = client.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(lease.timeout)) { [self] in
                timedOut(lease.timeout)
            }
        }
        if let connection = pool.take(lease.endpoint) {
            start(on: connection, lease: lease)
        } else {
            connect(lease)
        }
    }

    private func connect(_ lease: UpstreamLease) {
        phase = .connecting(lease)
        pool.connect(lease.endpoint) { [self] result in
            guard case .connecting(let current) = phase, current.endpoint == lease.endpoint else {
                if case .success(let connection) = result { connection.close() }  // the exchange ended meanwhile
                return
            }
            switch result {
            case .success(let connection): start(on: connection, lease: lease)
            case .failure(let error): failedBeforeResponse(.refused("\(error)"), lease: lease, freshConnection: true)
            }
        }
    }

    private func start(on connection: UpstreamConnection, lease: UpstreamLease) {
        phase = .sent(lease, connection)
        connection.begin(self)
        var head = request
        if !head.headers.contains(name: "host") { head.headers.add(name: "host", value: "\(lease.endpoint.host):\(lease.endpoint.port)") }
        connection.send(.head(head))
        if expectsContinue {
            expectsContinue = false
            if !requestEnded {
                client.writeAndFlush(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue))),
                                     promise: nil)
            }
        }
        while let part = pending.popFirst() { send(part, on: connection) }
        connection.flush()
        if clientReadHeld, connection.isWritable {
            clientReadHeld = false
            client.read()
        }
    }

    /// Writes a part of the request; whoever sends the last part of a read flushes.
    private func send(_ part: HTTPClientRequestPart, on connection: UpstreamConnection) {
        if case .body(let bytes) = part, bytes.readableBytes > 0 { bodySent = true }
        connection.send(part)
    }

    /// The replica failed before any response byte: retried if safe, else answered.
    private func failedBeforeResponse(_ failure: ProxyFailure, lease: UpstreamLease, freshConnection: Bool) {
        guard !bodySent else { return giveUp(failure, lease: lease) }
        if requestEnded, pending.isEmpty { pending.append(.end(nil)) }  // the end went out: send it again
        if !freshConnection {
            // A pooled connection the replica had closed: the request never reached it.
            return connect(lease)
        }
        guard idempotent, failedOn.isEmpty else { return giveUp(failure, lease: lease) }
        failedOn.insert(lease.endpoint.id)
        registry.release(lease)
        let bound = NIOLoopBound(self, eventLoop: client.eventLoop)
        switch registry.acquire(service, excluding: failedOn, onGrant: { result in
            bound.eventLoop.execute { bound.value.granted(result) }
        }) {
        case .leased(let other):
            dispatch(other)
        case .queued(let ticket, let wait):
            let timer = client.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(wait)) { [self] in
                guard case .waiting(let current, _) = phase, current == ticket, registry.cancelWait(service, ticket: ticket)
                else { return }
                fail(.queueTimeout(wait))
            }
            phase = .waiting(ticket: ticket, timer: timer)
        case .refused:
            fail(failure)  // no other replica: the first failure is the answer
        }
    }

    private func giveUp(_ failure: ProxyFailure, lease: UpstreamLease) {
        registry.release(lease)
        fail(failure)
    }

    private func timedOut(_ limit: Duration) {
        responseTimer = nil
        switch phase {
        case .connecting(let lease):
            giveUp(.timeout(limit), lease: lease)
        case .sent(let lease, let connection), .switching(let lease, let connection, _):
            connection.close()
            giveUp(.timeout(limit), lease: lease)
        default:
            break
        }
    }

    /// Answers the client with `failure` (no response head went out yet).
    private func fail(_ failure: ProxyFailure) {
        phase = .finished
        let answer = HTTPTriggerResponse.message(failure.status, "\(service): \(failure.reason)")
        var headers = HTTPHeaders(answer.headers.map { ($0.name.rawName, $0.value) })
        headers.add(name: "content-length", value: String(answer.body.readableBytes))
        headers.add(name: "date", value: dates.now())
        if closeClient || !requestEnded { headers.add(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase)
        client.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                     promise: nil)
        client.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(answer.body))), promise: nil)
        finish(with: .end(nil))
    }

    /// Ends the client's response; the connection closes after it when asked,
    /// or when the request's body was not all read (it cannot be skipped over).
    /// The connection hears of the end first: writing it lets the pipelining
    /// handler deliver a request the client sent meanwhile, which is a new one.
    private func finish(with end: HTTPServerResponsePart) {
        responseTimer?.cancel()
        responseTimer = nil
        report(.responseEnded)
        if requestEnded { report(.over) }
        if closeClient || !requestEnded {
            let channel = client.channel
            client.writeAndFlush(NIOAny(end)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            client.writeAndFlush(NIOAny(end), promise: nil)
        }
        if clientReadHeld {
            clientReadHeld = false
            client.read()
        }
    }
}
