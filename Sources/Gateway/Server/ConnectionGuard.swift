import FunctionMode
import NIOCore
import NIOHTTP1

/// The first handler of every gateway connection, below the HTTP codec: it
/// admits the connection or closes it at once (``ConnectionLimits/maxConnections``),
/// runs the header and idle timers of ``ConnectionDeadlines``, and writes the
/// refusals the codec cannot write (raw bytes, then close).
/// ``GatewayHTTP1Handler``, placed above the codec, tells it when a request
/// head arrived, when a response ended, and when a request could not be parsed.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: ConnectionLimits
    private let counters: ConnectionCounters
    private var deadlines = ConnectionDeadlines()
    /// The one scheduled task: the wake-up that checks ``armed``, or the
    /// lingering close of a refused connection.
    private var timer: Scheduled<Void>?
    /// When the wake-up fires.
    private var wakeUp: NIODeadline?
    /// The deadline in force and when it falls. Arming and disarming — a few
    /// times per request — only set this; the wake-up, which may fire earlier
    /// than the deadline and then goes back to sleep, stays scheduled, so
    /// the event loop's timers are not touched per request.
    private var armed: (deadline: ConnectionDeadlines.Deadline, at: NIODeadline)?
    private var context: ChannelHandlerContext?
    private var admitted = false
    private var closing = false
    private let dates = HTTPDateCache()

    init(limits: ConnectionLimits, counters: ConnectionCounters) {
        self.limits = limits
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted {
            admitted = false
            counters.release()
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }  // what a closing connection still sends is dropped
        perform(deadlines.bytesArrived())
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if closing, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)  // the client read the refusal and hung up
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Reports from above the codec

    func headReceived() { perform(deadlines.headReceived()) }

    func responseEnded() { perform(deadlines.responseEnded()) }

    /// A `CONNECT`: the decoder parses nothing after one (it expects a tunnel), and
    /// NIO's encoder sends no body after one, so it is refused here: 405 with the
    /// JSON error, then the close — no later request on the connection waits forever.
    func connectRequested() {
        refuse(.methodNotAllowed("CONNECT"), headers: [(name: "Allow", value: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")])
    }

    /// The request could not be parsed: answered 400 unless a response is under way, then closed.
    func malformed(_ error: HTTPParserError) {
        counters.countMalformed()
        if deadlines.isAnswering {
            close()
        } else {
            refuse(.malformedRequest(Self.message(for: error)))
        }
    }

    // MARK: - Internals

    private func start(context: ChannelHandlerContext) {
        guard !admitted, !closing else { return }
        guard counters.admit() else {
            closing = true
            context.close(promise: nil)
            return
        }
        admitted = true
        perform(deadlines.opened())
    }

    private func perform(_ action: ConnectionDeadlines.Action) {
        switch action {
        case .none:
            return
        case .disarm:
            armed = nil
        case .arm(let deadline):
            guard !closing else { return }  // the lingering close's timer stays
            let delay = deadline == .header ? limits.headerTimeout : limits.idleTimeout
            let at = NIODeadline.now() + TimeAmount(delay)
            armed = (deadline, at)
            if let wakeUp, wakeUp <= at { return }  // it will come by in time
            scheduleWakeUp(for: at)
        case .timedOut(.header, let answer):
            counters.countHeaderTimeout()
            if answer {
                refuse(.requestTimeout("The request head did not arrive within \(Self.seconds(limits.headerTimeout))"))
            } else {
                close()
            }
        case .timedOut(.idle, _):
            counters.countIdleTimeout()
            close()
        }
    }

    /// Schedules the wake-up for `at`, or sooner: no later than the shorter
    /// timeout from now, so that arming the other deadline — the idle one
    /// after a response, the header one at the next request's first byte —
    /// finds it early enough and leaves it as it is.
    private func scheduleWakeUp(for at: NIODeadline) {
        timer?.cancel()
        guard let context else { return }
        let shortest = TimeAmount(min(limits.headerTimeout, limits.idleTimeout))
        let wakeUp = min(at, .now() + shortest)
        self.wakeUp = wakeUp
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: wakeUp) { bound.value.wokeUp() }
    }

    /// The deadline in force passed, or comes later: sleep until then.
    private func wokeUp() {
        timer = nil
        wakeUp = nil
        guard let armed else { return }
        if armed.at <= .now() {
            self.armed = nil
            perform(deadlines.deadlinePassed(armed.deadline))
        } else {
            scheduleWakeUp(for: armed.at)
        }
    }

    /// Writes `error` as the connection's last answer, then closes it the way
    /// nginx's lingering close does: the sending side first, then — once the
    /// client hung up, or after ``lingerTime`` — the whole connection. Closing
    /// at once, with the rest of a large head still arriving, would make the
    /// kernel reset the connection, and the client could lose the answer.
    private func refuse(_ error: LambdaAPIError, headers: [(name: String, value: String)] = []) {
        guard let context, !closing else { return }
        closing = true
        timer?.cancel()
        armed = nil
        wakeUp = nil
        let bytes = RawRefusal.bytes(error, requestID: Identifiers.requestID(), date: dates.now(), headers: headers)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(mode: .output, promise: nil) }
        timer = context.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
    }

    /// How long a refused connection is still read (and its bytes dropped) before it is closed.
    static let lingerTime = TimeAmount.seconds(2)

    private func close() {
        guard let context, !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        armed = nil
        wakeUp = nil
        context.close(promise: nil)
    }

    static func message(for error: HTTPParserError) -> String {
        switch error {
        case .headerOverflow:
            "The request line and header fields are larger than the gateway accepts (80 KB)"
        default:
            "The request is not valid HTTP/1.1 (\(error))"
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return seconds == 1 ? "1 second" : "\(seconds) seconds" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18) seconds"
    }
}
