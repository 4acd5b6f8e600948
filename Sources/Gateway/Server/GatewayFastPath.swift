import Foundation
import FunctionMode
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers the gateway's most common requests — a synchronous Invoke API call
/// (`RequestResponse`, no `Tail`) and a request on an http route, each with a
/// known length — on the connection's event loop, with no task in between:
/// the request goes to the function host from here, and the answer is written
/// from wherever the host settles it (usually the Runtime API's event loop).
/// Every other request passes through untouched to Hummingbird's responder,
/// which answers the same request the same way (the same code decides),
/// only with two task hops more.
///
/// A request on a service's route never comes here: ``GatewayHTTP1Handler``
/// proxied it before its conversion to HTTPTypes.
///
/// Requests of one connection are answered in order: the pipeline's
/// `HTTPServerPipelineHandler` holds the next request until this one's
/// response has ended.
final class GatewayFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A request Hummingbird answers: its parts pass through.
        case passing
        /// A fast request: its body is being collected.
        case collecting(Fast, ByteBuffer)
        /// A fast request sent to its function, not yet answered.
        case answering
    }

    /// Where a request goes.
    private enum Decision {
        case pass
        case fast(Fast)
    }

    /// What a fast request is.
    private enum Fast {
        /// With the rest of its authentication, when one is required.
        case invoke(InvokeRequest.Head, signature: Result<SigV4PendingCheck, InvokeRefusal>?)
        case route(RouteMatch, HTTPRequest, path: String, query: String)
    }

    private let responder: GatewayResponder
    private var state = State.idle
    private let dates = HTTPDateCache()

    init(responder: GatewayResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let request)):
            switch decide(request) {
            case .fast(let fast):
                state = .collecting(fast, ByteBuffer())
            case .pass:
                state = .passing
                context.fireChannelRead(data)
            }
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.passing, _), (.idle, _):
            context.fireChannelRead(data)
        case (.collecting(let fast, var body), .body(var chunk)):
            state = .answering  // keep `body` uniquely referenced while appending
            body.writeBuffer(&chunk)
            state = .collecting(fast, body)
        case (.collecting(.invoke(let head, let signature), let body), .end):
            state = .answering
            switch signature.map({ $0.flatMap { responder.checkSignature($0, body: body) } }) {
            case .failure(let refusal): write(refusal.answer, context: context)
            case nil, .success: answer(head, body: body, context: context)
            }
        case (.collecting(.route(let match, let request, let path, let query), let body), .end):
            state = .answering
            answer(match, request: request, path: path, query: query, body: body, context: context)
        case (.collecting, .head), (.answering, _):
            // The pipeline handler delivers one request at a time; a part here
            // means a broken stream. Let Hummingbird's handling close it.
            context.fireChannelRead(data)
        }
    }

    /// Who answers a request: this handler (a fast request) or Hummingbird.
    private func decide(_ request: HTTPRequest) -> Decision {
        guard let target = request.path else { return .pass }
        let path: String
        let query: String?
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
            query = nil
        }
        if path.hasPrefix(LambdaInvokeAPI.prefix) {
            guard Self.isFastShape(request), request.method == .post, request.headerFields[.contentLength] != nil,
                  case .success(let head) = responder.parseInvokeHead(
                      method: request.method.rawValue, path: path, query: query, headers: request.headerFields),
                  head.invocationType == .requestResponse, head.logType == .none
            else { return .pass }
            let signature = responder.authorize(method: request.method.rawValue, path: path, query: query,
                                                authority: request.authority, headers: request.headerFields)
            return .fast(.invoke(head, signature: signature))
        }
        guard let match = responder.routes.current.match(method: request.method.rawValue, path: path) else { return .pass }
        guard case .function = match.route.target, Self.isFastShape(request) else { return .pass }
        return .fast(.route(match, request, path: path, query: query ?? ""))
    }

    /// A request this handler may answer itself: its whole body, of a known
    /// length within the limit, is collected before the function is called.
    private static func isFastShape(_ request: HTTPRequest) -> Bool {
        guard request.method != .head,  // a HEAD answer has no body: Hummingbird's
              request.headerFields[.expect] == nil,
              request.headerFields[.connection].map({ !$0.lowercased().contains("close") }) ?? true,
              request.headerFields[.transferEncoding] == nil
        else { return false }
        // No body is a known length too (a GET on a route).
        guard let length = request.headerFields[.contentLength].map({ Int($0) }) ?? 0 else { return false }
        return length <= LambdaInvokeAPI.maxSyncPayloadBytes
    }

    private func answer(_ head: InvokeRequest.Head, body: ByteBuffer, context: ChannelHandlerContext) {
        let invocation: InvokeRequest
        switch responder.checkInvoke(head, body: body) {
        case .success(let checked): invocation = checked
        case .failure(let refusal): return write(refusal.answer, context: context)
        }
        let account = responder.configuration.account
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        responder.invoker.invoke(head.functionName, payload: invocation.payload, clientContext: head.clientContext) { result in
            let answer = InvokeResponse.make(result: result, logType: .none, account: account)
            if loop.inEventLoop {
                let (handler, context) = bound.value
                handler.write(answer, context: context)
            } else {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.write(answer, context: context)
                }
            }
        }
    }

    private func answer(_ match: RouteMatch, request: HTTPRequest, path: String, query: String, body: ByteBuffer,
                        context: ChannelHandlerContext) {
        let trigger = HTTPTriggerRequest(
            method: request.method.rawValue, path: path, query: query, authority: request.authority,
            headers: request.headerFields, body: body,
            sourceIP: context.channel.remoteAddress?.ipAddress ?? "127.0.0.1")
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        responder.answerRoute(trigger, match: match) { answer in
            if loop.inEventLoop {
                let (handler, context) = bound.value
                handler.write(answer.status, answer.headers, answer.body, context: context)
            } else {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.write(answer.status, answer.headers, answer.body, context: context)
                }
            }
        }
    }

    private func write(_ answer: InvokeResponse, context: ChannelHandlerContext) {
        write(answer.status, answer.headers, answer.body, context: context)
    }

    private func write(_ status: HTTPResponse.Status, _ headers: HTTPFields, _ body: ByteBuffer,
                       context: ChannelHandlerContext) {
        state = .idle
        var response = HTTPResponse(status: status, headerFields: headers)
        response.headerFields[.contentLength] = String(body.readableBytes)
        response.headerFields[.date] = dates.now()
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(body)), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once a second.
final class HTTPDateCache {
    private var second: time_t = 0
    private var text = ""

    func now() -> String {
        var clock = time(nil)
        if clock != second || text.isEmpty {
            second = clock
            var parts = tm()
            gmtime_r(&clock, &parts)
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
            text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
                + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        }
        return text
    }
}
