import Foundation
import FunctionMode
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// The request context of the gateway: Hummingbird's, plus the connection
/// (for the caller's address in http-route events).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.channel = source.channel
    }
}

/// An Invoke API request refused before it reached a function, with its answer.
struct InvokeRefusal: Error {
    let answer: InvokeResponse
    init(_ answer: InvokeResponse) { self.answer = answer }
}

/// The routes in force; the controller replaces them while the server runs.
final class RouteBox: Sendable {
    private let table: Mutex<RouteTable>
    init(_ table: RouteTable) { self.table = Mutex(table) }
    var current: RouteTable {
        get { table.withLock { $0 } }
        set { table.withLock { $0 = newValue } }
    }
}

/// Answers every request of the gateway: the Lambda Invoke API under
/// `/2015-03-31/`, the http routes elsewhere, API Gateway's 404 otherwise.
public struct GatewayResponder: HTTPResponder {
    public typealias Context = GatewayRequestContext

    let invoker: any FunctionInvoker
    let routes: RouteBox
    /// The services' replicas, for the requests ``GatewayFastPath`` proxies.
    let upstreams: UpstreamRegistry
    let configuration: GatewayConfiguration
    let logger: Logger

    public func respond(to request: Request, context: Context) async throws -> Response {
        let target = request.head.path ?? "/"
        let path: Substring
        let query: Substring?
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = target[..<mark]
            query = target[target.index(after: mark)...]
        } else {
            path = target[...]
            query = nil
        }
        if path.hasPrefix(LambdaInvokeAPI.prefix) {
            return try await invokeAPI(request, path: String(path), query: query.map(String.init))
        }
        let method = request.method.rawValue
        if let match = routes.current.match(method: method, path: String(path)) {
            return try await httpRoute(request, context: context, match: match, path: String(path), query: query.map(String.init) ?? "")
        }
        return Self.response(HTTPTriggerResponse.message(.notFound, "Not Found", requestID: Self.newRequestID()))
    }

    // MARK: - The Invoke API

    func invokeAPI(_ request: Request, path: String, query: String?) async throws -> Response {
        // With authentication on, nothing about the request is answered before
        // its signature is checked (its headers first, its body once read).
        let signature: SigV4PendingCheck?
        switch authorize(method: request.method.rawValue, path: path, query: query, authority: request.head.authority,
                         headers: request.headers) {
        case nil: signature = nil
        case .success(let pending): signature = pending
        case .failure(let refusal): return Self.response(refusal)
        }
        let parsed = parseInvokeHead(method: request.method.rawValue, path: path, query: query, headers: request.headers)
        if signature == nil, case .failure(let refusal) = parsed { return Self.response(refusal) }
        let limit = (try? parsed.get())?.invocationType.payloadLimit ?? LambdaInvokeAPI.maxSyncPayloadBytes
        guard let body = try await Self.collect(request, limit: limit) else {
            return Self.response(.error(.requestTooLarge(limit: limit), requestID: Self.newRequestID()))
        }
        if let signature, case .failure(let refusal) = checkSignature(signature, body: body) {
            return Self.response(refusal)
        }
        let head: InvokeRequest.Head
        switch parsed {
        case .success(let checked): head = checked
        case .failure(let refusal): return Self.response(refusal)
        }
        let invocation: InvokeRequest
        switch checkInvoke(head, body: body) {
        case .success(let checked): invocation = checked
        case .failure(let refusal): return Self.response(refusal)
        }
        switch head.invocationType {
        case .requestResponse:
            let result = await invoker.invoke(head.functionName, payload: invocation.payload,
                                              clientContext: head.clientContext, includeLog: head.logType == .tail)
            return Self.response(.make(result: result, logType: head.logType, account: configuration.account))
        case .event:
            do {
                let id = try await invoker.enqueue(head.functionName, payload: invocation.payload)
                return Self.response(.accepted(requestID: id.rawValue))
            } catch {
                logger.warning("could not queue an event", metadata: [
                    "tandem.function": "\(head.functionName)", "tandem.error": "\(error)",
                ])
                return Self.response(.error(.service("The event could not be queued: \(error)"),
                                            requestID: Self.newRequestID()))
            }
        case .dryRun:
            return Self.response(.dryRun(requestID: Self.newRequestID()))
        }
    }

    /// The authentication of an Invoke API request's head: nil when none is
    /// required, else the check that remains for its body, or the refusal.
    func authorize(method: String, path: String, query: String?, authority: String?, headers: HTTPFields)
        -> Result<SigV4PendingCheck, InvokeRefusal>?
    {
        configuration.authentication.authorize(method: method, path: path, query: query, authority: authority, headers: headers)?
            .mapError { InvokeRefusal(.error($0, requestID: Self.newRequestID())) }
    }

    /// The rest of the authentication, once the body is known.
    func checkSignature(_ pending: SigV4PendingCheck, body: ByteBuffer) -> Result<String, InvokeRefusal> {
        pending.verify(body: body).mapError { InvokeRefusal(.error($0, requestID: Self.newRequestID())) }
    }

    /// The Invoke API request line and headers, checked; or the answer that refuses them.
    func parseInvokeHead(method: String, path: String, query: String?, headers: HTTPFields)
        -> Result<InvokeRequest.Head, InvokeRefusal>
    {
        InvokeRequest.parseHead(method: method, path: path, query: query, headers: headers, account: configuration.account)
            .mapError { InvokeRefusal(.error($0, requestID: Self.newRequestID())) }
    }

    /// The whole request, checked: the function exists and the payload fits its invocation type.
    func checkInvoke(_ head: InvokeRequest.Head, body: ByteBuffer) -> Result<InvokeRequest, InvokeRefusal> {
        guard invoker.functionExists(head.functionName) else {
            return .failure(InvokeRefusal(.error(.functionNotFound(arn: configuration.account.functionARN(head.functionName)),
                                                 requestID: Self.newRequestID())))
        }
        return head.withPayload(body).mapError { InvokeRefusal(.error($0, requestID: Self.newRequestID())) }
    }

    // MARK: - http routes

    func httpRoute(_ request: Request, context: Context, match: RouteMatch, path: String, query: String) async throws -> Response {
        guard let body = try await Self.collect(request, limit: LambdaInvokeAPI.maxSyncPayloadBytes) else {
            return Self.response(HTTPTriggerResponse.message(.contentTooLarge, "Request Entity Too Large",
                                                             requestID: Self.newRequestID()))
        }
        let trigger = HTTPTriggerRequest(
            method: request.method.rawValue, path: path, query: query, authority: request.head.authority,
            headers: request.headers, body: body, sourceIP: context.channel.remoteAddress?.ipAddress ?? "127.0.0.1")
        let answer = await withCheckedContinuation { continuation in
            answerRoute(trigger, match: match) { continuation.resume(returning: $0) }
        }
        return Self.response(answer)
    }

    /// Answers an http route's request (its body already read, within the
    /// limit) and calls `completion` once, from any thread: a function that is
    /// an HTTP server gets the request itself, as a reverse proxy sends it; any
    /// other gets an API Gateway HTTP API event, and its result is mapped back
    /// as API Gateway maps it.
    func answerRoute(_ trigger: HTTPTriggerRequest, match: RouteMatch,
                     completion: @escaping @Sendable (HTTPTriggerResponse) -> Void) {
        let requestID = Self.newRequestID()
        switch match.route.target {
        case .function(let name):
            let served = invoker.forward(name, request: {
                HTTPForwarding.request(
                    method: trigger.method, target: trigger.query.isEmpty ? trigger.path : "\(trigger.path)?\(trigger.query)",
                    authority: trigger.authority, headers: trigger.headers, body: trigger.body, sourceIP: trigger.sourceIP)
            }) { result in
                completion(HTTPForwarding.response(result, requestID: requestID))
            }
            if served { return }
            let now = Int64((Date.now.timeIntervalSince1970 * 1000).rounded())
            let event = HTTPAPIEvent.make(trigger, match: match, requestID: requestID, epochMilliseconds: now,
                                          account: configuration.account, apiID: configuration.apiID)
            guard event.readableBytes <= LambdaInvokeAPI.maxSyncPayloadBytes else {
                return completion(HTTPTriggerResponse.message(.contentTooLarge, "Request Entity Too Large", requestID: requestID))
            }
            invoker.invoke(name, payload: event, clientContext: nil) { result in
                completion(HTTPTriggerResponse.make(result: result, requestID: requestID))
            }
        case .service(let name):
            // A connection's pipeline proxies a service's requests before they
            // reach Hummingbird; one arriving here has no connection to stream
            // on (HummingbirdTesting's router mode).
            completion(HTTPTriggerResponse.message(.serviceUnavailable, "\(name): served only on a live connection",
                                                   requestID: requestID))
        }
    }

    // MARK: - Helpers

    /// The whole body, or nil as soon as it is known to be over `limit`
    /// (from `Content-Length`, or while reading): nothing past the limit is kept.
    /// Throws when the body cannot be read (the connection broke).
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer? {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { return nil }
        var collected: ByteBuffer?
        for try await chunk in request.body {
            if var existing = collected {
                guard existing.readableBytes + chunk.readableBytes <= limit else { return nil }
                collected = nil  // keep the buffer uniquely referenced while appending
                var chunk = chunk
                existing.writeBuffer(&chunk)
                collected = existing
            } else {
                guard chunk.readableBytes <= limit else { return nil }
                collected = chunk
            }
        }
        return collected ?? ByteBuffer()
    }

    static func newRequestID() -> String { Identifiers.requestID() }

    static func response(_ refusal: InvokeRefusal) -> Response { response(refusal.answer) }

    static func response(_ answer: InvokeResponse) -> Response {
        Response(status: answer.status, headers: answer.headers, body: ResponseBody(byteBuffer: answer.body))
    }

    static func response(_ answer: HTTPTriggerResponse) -> Response {
        Response(status: answer.status, headers: answer.headers, body: ResponseBody(byteBuffer: answer.body))
    }
}
