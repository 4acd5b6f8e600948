import Engine
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves the Lambda Runtime API. Every environment gets its own endpoint (a
/// listening socket of its own) that only the environment's own container may
/// talk to (its ``PeerGate``): a connection from any other address is closed
/// before a byte of it is read. So a runtime can only ever see and answer the
/// invocations of its own environment, and a request id that belongs to
/// another environment is refused with 403.
public final class RuntimeAPIServer: Sendable {
    private let group: any EventLoopGroup
    private let host: String
    private let delegate: any RuntimeAPIDelegate

    /// - Parameters:
    ///   - host: the address to listen on, reachable from containers (the
    ///     bridge network's gateway address, e.g. 172.17.0.1).
    public init(group: any EventLoopGroup, host: String, delegate: any RuntimeAPIDelegate) {
        self.group = group
        self.host = host
        self.delegate = delegate
    }

    /// Opens the endpoint of one environment on an ephemeral port.
    /// - Parameter gate: who may connect; admit the environment's address
    ///   once its container has one (connections wait until then).
    public func openEndpoint(for env: EnvironmentID, gate: PeerGate) async throws -> RuntimeEndpoint {
        let connections = ConnectionSet()
        let delegate = self.delegate
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Nothing is read from the connection until the gate decides:
                // a failed initialiser closes the accepted socket.
                let peer = channel.remoteAddress?.ipAddress
                return gate.decide(peer, on: channel.eventLoop).flatMapThrowing { admitted in
                    guard admitted else {
                        delegate.runtimeRefusedConnection(env, from: peer ?? "an unknown address")
                        throw RuntimeAPIServerError(message: "connection from \(peer ?? "?") refused")
                    }
                    connections.insert(channel)
                    try Self.configure(channel, env: env, delegate: delegate)
                }
            }
            .bind(host: host, port: 0)
            .get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw RuntimeAPIServerError(message: "the Runtime API endpoint for \(env) has no port")
        }
        return RuntimeEndpoint(address: "\(host):\(port)", listener: channel, connections: connections, gate: gate)
    }

    /// The pipeline of one Runtime API connection: NIO's HTTP/1 server (with its
    /// error handling) and the handler that routes requests to `delegate`. Package
    /// access for the fuzz target, which feeds it raw bytes in an `EmbeddedChannel`.
    package static func configure(_ channel: any Channel, env: EnvironmentID, delegate: any RuntimeAPIDelegate) throws {
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(env: env, delegate: delegate))
    }
}

public struct RuntimeAPIServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// One environment's Runtime API endpoint.
public final class RuntimeEndpoint: Sendable {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API` in the environment.
    public let address: String
    /// Who may connect.
    public let gate: PeerGate
    private let listener: any Channel
    private let connections: ConnectionSet

    init(address: String, listener: any Channel, connections: ConnectionSet, gate: PeerGate) {
        self.address = address
        self.listener = listener
        self.connections = connections
        self.gate = gate
    }

    /// Stops listening and closes every connection of the environment.
    public func close() async {
        gate.close()
        try? await listener.close()
        for connection in connections.drain() {
            try? await connection.close()
        }
    }
}

/// The accepted connections of one endpoint, closed with it.
final class ConnectionSet: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        channels.withLockedValue { $0[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.channels.withLockedValue { _ = $0.removeValue(forKey: key) }
        }
    }

    func drain() -> [any Channel] {
        channels.withLockedValue { channels in
            defer { channels = [:] }
            return Array(channels.values)
        }
    }
}

/// A runtime's parked `GET /next`: answered once, from any thread.
public final class NextWaiter: Sendable {
    private let channel: any Channel
    private let answered = NIOLockedValueBox(false)

    init(channel: any Channel) { self.channel = channel }

    /// Whether the connection is still open and unanswered.
    public var isWaiting: Bool { channel.isActive && !answered.withLockedValue { $0 } }

    /// Answers the runtime with an invocation. Returns false when the waiter
    /// was already answered or its connection is gone; `lost` is called when
    /// the connection fails while the event is being written.
    @discardableResult
    public func deliver(_ event: NextEvent, lost: (@Sendable () -> Void)? = nil) -> Bool {
        let first = answered.withLockedValue { done in
            defer { done = true }
            return !done
        }
        guard first, channel.isActive else { return false }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(event.payload.readableBytes))
        headers.add(name: RuntimeAPI.Header.requestID, value: event.requestID)
        headers.add(name: RuntimeAPI.Header.deadline, value: String(event.deadlineEpochMilliseconds))
        headers.add(name: RuntimeAPI.Header.functionArn, value: event.functionArn)
        headers.add(name: RuntimeAPI.Header.traceID, value: event.traceID)
        if let context = event.clientContext { headers.add(name: RuntimeAPI.Header.clientContext, value: context) }
        if let identity = event.cognitoIdentity { headers.add(name: RuntimeAPI.Header.cognitoIdentity, value: identity) }
        let channel = self.channel
        let payload = event.payload
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        @Sendable func write() {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(payload)), promise: nil)
            let written = lost.map { lost in
                let promise = channel.eventLoop.makePromise(of: Void.self)
                promise.futureResult.whenFailure { _ in lost() }
                return promise
            }
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: written)
        }
        if channel.eventLoop.inEventLoop { write() } else { channel.eventLoop.execute(write) }
        return true
    }

    /// Marks the waiter answered without writing (its connection closed).
    func abandon() -> Bool {
        answered.withLockedValue { done in
            defer { done = true }
            return !done
        }
    }
}

/// Routes one connection's requests to the delegate.
final class RuntimeAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let env: EnvironmentID
    private let delegate: any RuntimeAPIDelegate
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyBytes = 0
    private var parked: NextWaiter?

    init(env: EnvironmentID, delegate: any RuntimeAPIDelegate) {
        self.env = env
        self.delegate = delegate
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = nil
            self.bodyBytes = 0
        case .body(var chunk):
            bodyBytes += chunk.readableBytes
            // Keep reading past the limit (to answer 413 cleanly) but stop storing.
            if bodyBytes <= RuntimeAPI.maxPayloadBytes {
                if var collected = body {
                    collected.writeBuffer(&chunk)
                    body = collected
                } else {
                    body = chunk
                }
            } else {
                body = nil
            }
        case .end:
            guard let head else { return }
            self.head = nil
            route(context: context, head: head, body: body ?? ByteBuffer(), bytes: bodyBytes)
            body = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let parked, parked.abandon() {
            delegate.runtimeAbandonedNext(env, waiter: parked)
        }
        parked = nil
        context.fireChannelInactive()
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, bytes: Int) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path.hasPrefix(RuntimeAPI.prefix) else {
            return respond(context, .notFound, errorType: "NotFound", message: "no such Runtime API path: \(path)")
        }
        let parts = path.dropFirst(RuntimeAPI.prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (head.method, parts.count, parts.first) {
        case (.GET, 2, "invocation") where parts[1] == "next":
            let waiter = NextWaiter(channel: context.channel)
            parked = waiter
            delegate.runtimeRequestedNext(env, waiter: waiter)
        case (.POST, 3, "invocation") where parts[2] == "response":
            let requestID = parts[1]
            if bytes > RuntimeAPI.maxPayloadBytes {
                delegate.runtimeSentTooMuch(env, requestID: requestID, bytes: bytes)
                return respond(context, .payloadTooLarge, errorType: "RequestEntityTooLarge",
                               message: "Exceeded maximum allowed payload size (\(RuntimeAPI.maxPayloadBytes) bytes).")
            }
            answer(context, delegate.runtimeResponded(env, requestID: requestID, body: body), requestID: requestID)
        case (.POST, 3, "invocation") where parts[2] == "error":
            let requestID = parts[1]
            if bytes > RuntimeAPI.maxPayloadBytes {
                delegate.runtimeSentTooMuch(env, requestID: requestID, bytes: bytes)
                return respond(context, .payloadTooLarge, errorType: "RequestEntityTooLarge",
                               message: "Exceeded maximum allowed payload size (\(RuntimeAPI.maxPayloadBytes) bytes).")
            }
            let report = Self.errorReport(head: head, body: body)
            answer(context, delegate.runtimeReportedError(env, requestID: requestID, error: report), requestID: requestID)
        case (.POST, 2, "init") where parts[1] == "error":
            let report = Self.errorReport(head: head, body: body)
            answer(context, delegate.runtimeReportedInitError(env, error: report), requestID: nil)
        case (_, _, "invocation"), (_, _, "init"):
            if [.GET, .POST].contains(head.method) {
                respond(context, .notFound, errorType: "NotFound", message: "no such Runtime API path: \(path)")
            } else {
                respond(context, .methodNotAllowed, errorType: "MethodNotAllowed", message: "\(head.method) is not allowed on \(path)")
            }
        default:
            respond(context, .notFound, errorType: "NotFound", message: "no such Runtime API path: \(path)")
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ verdict: RuntimeCallVerdict, requestID: String?) {
        switch verdict {
        case .accepted:
            writeJSON(context, .accepted, #"{"status":"OK"}"#)
        case .forbidden:
            respond(context, .forbidden, errorType: "AccessDeniedException",
                    message: "request id \(requestID ?? "") belongs to another environment")
        case .unknownRequest:
            respond(context, .badRequest, errorType: "InvalidRequestID",
                    message: "Invalid request ID: \(requestID ?? "") is not an invocation this environment is handling")
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, errorType: String, message: String) {
        writeJSON(context, status, ErrorDocument.json(errorType: errorType, errorMessage: message))
    }

    private func writeJSON(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ json: String) {
        var buffer = context.channel.allocator.buffer(capacity: json.utf8.count)
        buffer.writeString(json)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    static func errorReport(head: HTTPRequestHead, body: ByteBuffer) -> RuntimeErrorReport {
        let bytes = Array(body.readableBytesView)
        let document = ErrorDocument.parse(bytes)
        let headerType = head.headers.first(name: RuntimeAPI.Header.functionErrorType)
        let errorType = document?.errorType ?? headerType ?? "Runtime.Unknown"
        let message = document?.errorMessage ?? String(decoding: bytes.prefix(4096), as: UTF8.self)
        return RuntimeErrorReport(errorType: errorType, errorMessage: message, body: bytes)
    }
}

/// Lambda's error document: `{"errorMessage": "...", "errorType": "..."}`.
public enum ErrorDocument {
    public static func json(errorType: String, errorMessage: String) -> String {
        #"{"errorMessage":\#(JSONText.quoted(errorMessage)),"errorType":\#(JSONText.quoted(errorType))}"#
    }

    /// The `errorType` and `errorMessage` of a posted error, when it is JSON.
    public static func parse(_ bytes: [UInt8]) -> (errorType: String?, errorMessage: String?)? {
        guard !bytes.isEmpty,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { return nil }
        return (object["errorType"] as? String, object["errorMessage"] as? String)
    }
}
