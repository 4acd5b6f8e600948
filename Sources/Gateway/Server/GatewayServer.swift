import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Where the gateway listens and who it says it is.
public struct GatewayConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (see ``GatewayServer/listeningPort()``).
    public var port: Int
    /// Region and account of every function ARN.
    public var account: LambdaAccount
    /// `requestContext.apiId` of http-route events.
    public var apiID: String
    /// Header and idle timeouts, and the most connections open at once.
    public var limits: ConnectionLimits
    /// Who may call the Invoke API (everyone, unless SigV4 is required).
    public var authentication: GatewayAuthentication

    public init(host: String = "127.0.0.1", port: Int = 8080, account: LambdaAccount = LambdaAccount(),
                apiID: String = "tandem", limits: ConnectionLimits = ConnectionLimits(),
                authentication: GatewayAuthentication = .none) {
        self.host = host
        self.port = port
        self.account = account
        self.apiID = apiID
        self.limits = limits
        self.authentication = authentication
    }

    /// `HOST:PORT` (`--gateway`); `[::1]:8080` for IPv6.
    public init(address: String, account: LambdaAccount = LambdaAccount(), apiID: String = "tandem") throws(GatewayError) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65535).contains(port)
        else { throw GatewayError("expected HOST:PORT, found \"\(address)\"") }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw GatewayError("expected HOST:PORT, found \"\(address)\"") }
        self.init(host: host, port: port, account: account, apiID: apiID)
    }
}

/// A failure of the gateway server itself.
public struct GatewayError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// What caused it, when something else failed first.
    public var underlying: (any Error)?
    public init(_ message: String, underlying: (any Error)? = nil) {
        self.message = message
        self.underlying = underlying
    }
    public var description: String { message }
    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool { lhs.message == rhs.message }
}

/// The HTTP front door, on Hummingbird: the Lambda Invoke API and the http
/// routes. A `Service`: run it in the controller's `ServiceGroup`; it stops
/// on graceful shutdown.
public final class GatewayServer: Service, Sendable {
    public let configuration: GatewayConfiguration
    /// Answers requests; usable without a socket (HummingbirdTesting's router mode).
    public let responder: GatewayResponder
    private let logger: Logger
    private let routeBox: RouteBox
    private let counters: ConnectionCounters

    private struct Listening {
        var port: Int?
        var ended = false
        var waiters: [CheckedContinuation<Int, any Error>] = []
    }
    private let listening = Mutex(Listening())

    /// - Parameter upstreams: the services' replicas, which the controller keeps up to date.
    public init(invoker: any FunctionInvoker, routes: [GatewayRoute] = [], upstreams: UpstreamRegistry = UpstreamRegistry(),
                configuration: GatewayConfiguration = GatewayConfiguration(),
                logger: Logger = Logger(label: "tandem.gateway")) throws(RouteTableError) {
        self.configuration = configuration
        self.logger = logger
        self.routeBox = RouteBox(try RouteTable(routes))
        self.counters = ConnectionCounters(limit: configuration.limits.maxConnections)
        self.responder = GatewayResponder(invoker: invoker, routes: routeBox, upstreams: upstreams,
                                          configuration: configuration, logger: logger)
    }

    /// The services' replicas the gateway proxies to.
    public var upstreams: UpstreamRegistry { responder.upstreams }

    /// The http routes in force.
    public var routes: [GatewayRoute] { routeBox.current.routes }

    /// Replaces the http routes (all or nothing); requests already routed finish on the old ones.
    public func setRoutes(_ routes: [GatewayRoute]) throws(RouteTableError) {
        routeBox.current = try RouteTable(routes)
    }

    /// What the gateway did with its connections so far.
    public var connectionStatistics: ConnectionStatistics { counters.statistics }

    /// The bound port once the server listens, else nil.
    public var port: Int? { listening.withLock { $0.port } }

    /// Waits until the server listens and gives its port (the real one when
    /// configured with port 0). Throws if the server stopped before listening.
    public func listeningPort() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = listening.withLock { state -> Result<Int, any Error>? in
                if let port = state.port { return .success(port) }
                if state.ended { return .failure(GatewayError("the gateway stopped before it listened")) }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// The Hummingbird application serving this gateway.
    public func makeApplication() -> some ApplicationProtocol {
        let gateway = responder
        let limits = configuration.limits
        let counters = counters
        return Application(
            responder: responder,
            server: HTTPServerBuilder { handler in
                GatewayChannel(responder: handler, gateway: gateway, limits: limits, counters: counters)
            },
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { [weak self] channel in self?.serverRunning(channel) },
            logger: logger)
    }

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        defer { ended() }
        try await makeApplication().run()
    }

    private func serverRunning(_ channel: any Channel) {
        let port = channel.localAddress?.port ?? configuration.port
        let waiters = listening.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        logger.debug("gateway listening", metadata: ["tandem.address": "\(configuration.host):\(port)"])
        for waiter in waiters { waiter.resume(returning: port) }
    }

    private func ended() {
        let waiters = listening.withLock { state in
            state.ended = true
            state.port = nil
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: GatewayError("the gateway stopped before it listened")) }
    }
}
