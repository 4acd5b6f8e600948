import NIOCore
import NIOHTTP1
import NIOPosix

/// The kept-alive connections to replicas of one event loop: requests of the
/// loop's client connections reuse them, so a proxied request never changes
/// threads. Connections idle longer than the idle timeout are closed, at most
/// ``maxIdlePerEndpoint`` are kept per endpoint, and those to endpoints no
/// service lists any more are closed as soon as the registry says so.
final class UpstreamConnectionPool {
    /// Idle connections kept per endpoint (more are closed when they come back).
    static let maxIdlePerEndpoint = 64

    let eventLoop: any EventLoop
    private let idleTimeout: TimeAmount
    /// Most recently used last: taken from the end, so the warmest connection is reused first.
    private var idle: [UpstreamEndpoint: [UpstreamConnection]] = [:]
    /// Every open connection, idle or busy, by endpoint id: a replica that
    /// died has all of its connections closed at once (see ``abandon(_:)``).
    private var open: [String: [UpstreamConnection]] = [:]
    private var live: Set<UpstreamEndpoint>
    private var version: Int
    private var sweep: Scheduled<Void>?

    init(eventLoop: any EventLoop, live: Set<UpstreamEndpoint>, version: Int, idleTimeout: Duration) {
        self.eventLoop = eventLoop
        self.live = live
        self.version = version
        self.idleTimeout = TimeAmount(idleTimeout)
    }

    /// A pooled connection to `endpoint`, if one is open.
    func take(_ endpoint: UpstreamEndpoint) -> UpstreamConnection? {
        while let connection = idle[endpoint]?.popLast() {
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Opens a new connection to `endpoint`; `completion` is called on this loop.
    func connect(_ endpoint: UpstreamEndpoint, completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            // A replica's address on the bridge answers at once or not at all:
            // a dead one's SYN goes unanswered, so do not wait NIO's 10 s.
            .connectTimeout(.seconds(2))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No header validation: the request's headers were parsed and validated on the way in.
                    // Bytes the replica sends right after a `101` are kept for the tunnel (see ``UpstreamConnection/becomeTunnel(_:)``).
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(endpoint: endpoint, pool: pool.value))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                let connection = result.flatMap { channel in
                    Result { try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) }
                }
                if case .success(let opened) = connection, opened.isActive {
                    pool.value.open[endpoint.id, default: []].append(opened)
                }
                completion(connection)
            }
    }

    /// A connection whose exchange ended cleanly: kept for the next request
    /// to its endpoint, unless it closed, its endpoint is gone, or enough are kept.
    func putBack(_ connection: UpstreamConnection) {
        guard connection.isActive, live.contains(connection.endpoint),
              idle[connection.endpoint, default: []].count < Self.maxIdlePerEndpoint
        else { return connection.close() }
        connection.idleSince = .now()
        idle[connection.endpoint, default: []].append(connection)
        scheduleSweep()
    }

    /// A connection closed (by either side): it is no longer offered.
    func closed(_ connection: UpstreamConnection) {
        idle[connection.endpoint]?.removeAll { $0 === connection }
        if idle[connection.endpoint]?.isEmpty == true { idle[connection.endpoint] = nil }
        open[connection.endpoint.id]?.removeAll { $0 === connection }
        if open[connection.endpoint.id]?.isEmpty == true { open[connection.endpoint.id] = nil }
    }

    /// The replica `id` is gone (its container ended): every connection to it
    /// is closed now, so a request in flight on one fails at once — and is
    /// retried elsewhere when it may be — instead of waiting for its timeout
    /// on a peer that will never answer nor reset.
    func abandon(_ id: String) {
        idle = idle.filter { $0.key.id != id }
        for connection in open.removeValue(forKey: id) ?? [] { connection.abandon() }
    }

    /// The endpoints services list now (as of registry change `version`): idle
    /// connections to others are closed, and busy ones will not come back.
    func retain(_ live: Set<UpstreamEndpoint>, version: Int) {
        guard version > self.version else { return }  // an older change arriving late
        self.live = live
        self.version = version
        for endpoint in idle.keys where !live.contains(endpoint) {
            for connection in idle.removeValue(forKey: endpoint) ?? [] { connection.close() }
        }
    }

    /// Closes connections idle past the timeout, checking again while any are kept.
    private func scheduleSweep() {
        guard sweep == nil else { return }
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        sweep = eventLoop.scheduleTask(in: .nanoseconds(idleTimeout.nanoseconds / 4)) {
            let pool = pool.value
            pool.sweep = nil
            let cutoff = NIODeadline.now() - pool.idleTimeout
            for (endpoint, connections) in pool.idle {
                let (stale, fresh) = (connections.filter { $0.idleSince <= cutoff }, connections.filter { $0.idleSince > cutoff })
                pool.idle[endpoint] = fresh.isEmpty ? nil : fresh
                for connection in stale { connection.close() }
            }
            if !pool.idle.isEmpty { pool.scheduleSweep() }
        }
    }
}
