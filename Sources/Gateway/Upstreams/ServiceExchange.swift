import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// One request of a service, proxied on its client connection's event loop
/// to a replica and the answer back, streamed both ways: neither body is ever
/// held whole. ``GatewayFastPath`` hands it the request's parts, the
/// connection's reads and writability; its ``UpstreamConnection`` hands it the
/// replica's answer.
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
        case finished
    }

    private let client: ChannelHandlerContext
    private let registry: UpstreamRegistry
    private let pool: UpstreamConnectionPool
    private let service: String
    /// The request as the replica gets it.
    private var request: HTTPRequest
    private let idempotent: Bool
    private var expectsContinue: Bool
    /// The client asked for the connection to close after this answer (or is HTTP/1.0).
    private var closeClient: Bool
    private let dates: HTTPDateCache
    /// Called once the exchange is over and the connection may serve the next request.
    private let done: () -> Void

    private var phase: Phase
    /// Body parts and the end not yet sent to the replica.
    private var pending = CircularBuffer<HTTPRequestPart>()
    private var requestEnded = false
    private var bodySent = false
    /// Endpoints this request failed on.
    private var failedOn: Set<String> = []
    private var responseTimer: Scheduled<Void>?
    private var clientReadHeld = false
    private var replicaKeepsAlive = true

    /// Idempotent methods (RFC 9110 §9.2.2): a request with one may go to another replica after a failure.
    private static let idempotentMethods: Set<HTTPRequest.Method> = [.get, .head, .options, .put, .delete]
    /// Methods whose request without framing fields is sent with `Content-Length: 0`, so that NIO's encoder does not chunk it.
    private static let methodsWithBody: Set<HTTPRequest.Method> = [.post, .put, .patch]

    /// Proxies `head` (already matched to `service`) once ``start()`` is
    /// called; `done` is called when it is over.
    init(_ head: HTTPRequest, service: String, client: ChannelHandlerContext, registry: UpstreamRegistry,
         pool: UpstreamConnectionPool, dates: HTTPDateCache, done: @escaping () -> Void) {
        let fields = head.headerFields
        self.client = client
        self.registry = registry
        self.pool = pool
        self.service = service
        self.dates = dates
        self.done = done
        self.idempotent = Self.idempotentMethods.contains(head.method)
        self.expectsContinue = fields[.expect]?.lowercased() == "100-continue"
        self.closeClient = HTTPForwarding.saysClose(fields[.connection])
        self.phase = .finished

        var forwarded = HTTPForwarding.requestFields(
            fields, authority: head.authority, sourceIP: client.channel.remoteAddress?.ipAddress ?? "127.0.0.1")
        forwarded[.expect] = nil  // answered here, once a replica is ready for the body
        if fields[.transferEncoding] != nil {
            forwarded[.contentLength] = nil
            forwarded[.transferEncoding] = "chunked"  // so the encoder frames it whatever the method
        } else if fields[.contentLength] == nil, Self.methodsWithBody.contains(head.method) {
            forwarded[.contentLength] = "0"  // no body: not a chunked empty one
        }
        self.request = HTTPRequest(method: head.method, scheme: nil, authority: head.authority, path: head.path,
                                   headerFields: forwarded)
    }

    /// Asks for a replica: the request goes out, waits in the queue, or is answered 503.
    func start() { acquire() }

    // MARK: - The client's side

    /// A part of the request after its head.
    func clientRead(_ part: HTTPRequestPart) {
        if case .end = part { requestEnded = true }
        switch phase {
        case .sent(_, let connection), .responding(_, let connection):
            send(part, on: connection)
            if case .end = part { connection.flush() }
        case .waiting, .connecting:
            pending.append(part)
        case .finished:
            if requestEnded { done() }  // the rest of a request answered early
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
        case .sent(let lease, let connection), .responding(let lease, let connection):
            connection.close()
            registry.release(lease)
        case .finished:
            break
        }
        phase = .finished
        responseTimer?.cancel()
    }

    // MARK: - The replica's side

    func upstreamRead(_ part: HTTPResponsePart) {
        switch (phase, part) {
        case (.sent(let lease, let connection), .head(let response)):
            guard response.status.kind != .informational else { return }  // Expect is answered here; no upgrades
            responseTimer?.cancel()
            phase = .responding(lease, connection)
            replicaKeepsAlive = !HTTPForwarding.saysClose(response.headerFields[.connection])
            var head = HTTPResponse(status: response.status, headerFields: HTTPForwarding.responseFields(response.headerFields))
            if head.headerFields[.date] == nil { head.headerFields[.date] = dates.now() }
            if closeClient { head.headerFields[.connection] = "close" }
            client.write(NIOAny(HTTPResponsePart.head(head)), promise: nil)
        case (.responding, .body(let bytes)):
            client.write(NIOAny(HTTPResponsePart.body(bytes)), promise: nil)
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
        case .responding(let lease, let connection):
            // Part of the answer went out: the client can only see it cut short.
            phase = .finished
            connection.close()
            registry.release(lease)
            responseTimer?.cancel()
            client.close(promise: nil)
        case .waiting, .connecting, .finished:
            break
        }
    }

    // MARK: - Internals

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
        if head.authority == nil { head.authority = "\(lease.endpoint.host):\(lease.endpoint.port)" }
        connection.send(.head(head))
        if expectsContinue {
            expectsContinue = false
            if !requestEnded {
                client.writeAndFlush(NIOAny(HTTPResponsePart.head(HTTPResponse(status: .continue))), promise: nil)
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
    private func send(_ part: HTTPRequestPart, on connection: UpstreamConnection) {
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
        case .sent(let lease, let connection):
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
        var head = HTTPResponse(status: answer.status, headerFields: answer.headers)
        head.headerFields[.contentLength] = String(answer.body.readableBytes)
        head.headerFields[.date] = dates.now()
        if closeClient || !requestEnded { head.headerFields[.connection] = "close" }
        client.write(NIOAny(HTTPResponsePart.head(head)), promise: nil)
        client.write(NIOAny(HTTPResponsePart.body(answer.body)), promise: nil)
        finish(with: .end(nil))
    }

    /// Ends the client's response; the connection closes after it when asked,
    /// or when the request's body was not all read (it cannot be skipped over).
    private func finish(with end: HTTPResponsePart) {
        responseTimer?.cancel()
        responseTimer = nil
        let close = closeClient || !requestEnded
        if close {
            let channel = client.channel
            client.writeAndFlush(NIOAny(end)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            client.writeAndFlush(NIOAny(end), promise: nil)
        }
        if clientReadHeld {
            clientReadHeld = false
            client.read()
        }
        if requestEnded { done() }
    }
}
