import NIOCore
import Synchronization

/// The replica a request was given, held until its response ended or failed
/// (``UpstreamRegistry/release(_:)``): the replica's outstanding count
/// includes it meanwhile.
struct UpstreamLease: Sendable {
    var service: String
    var endpoint: UpstreamEndpoint
    /// The service's timeout until the response head when the lease was given.
    var timeout: Duration
}

/// Shared between the controller (writes) and the gateway's event loops
/// (read per request): each service's ready endpoints, the requests in flight
/// on each endpoint, the requests waiting for a free one, and a connection
/// pool per event loop.
public final class UpstreamRegistry: Sendable {
    /// A request waiting for a replica below its limit; `grant` is called once,
    /// from any thread, unless the wait is cancelled first.
    struct Waiter: Sendable {
        var ticket: UInt64
        var grant: @Sendable (Result<UpstreamLease, ProxyFailure>) -> Void
    }

    struct Service: Sendable {
        var set: UpstreamSet
        var balancer = UpstreamBalancer()
        var waiters = CircularBuffer<Waiter>()
    }

    struct State: Sendable {
        var services: [String: Service] = [:]
        /// By endpoint id; kept for an endpoint removed with requests still on it.
        var outstanding: [String: Int] = [:]
        /// By service name; kept for a service removed with requests still in flight.
        var inFlight: [String: Int] = [:]
        var idleWaiters: [String: [(ticket: UInt64, continuation: CheckedContinuation<Void, Never>)]] = [:]
        /// Waits whose time ran out before they were registered.
        var expiredIdleWaits: Set<UInt64> = []
        var nextTicket: UInt64 = 0
        /// Every service's endpoints, and how many times they changed.
        var live: Set<UpstreamEndpoint> = []
        var version = 0
    }

    /// What ``acquire(_:excluding:onGrant:)`` gave.
    enum Acquisition {
        case leased(UpstreamLease)
        /// Waiting: `onGrant` will be called, unless ``cancelWait(_:ticket:)`` comes first.
        case queued(ticket: UInt64, timeout: Duration)
        case refused(ProxyFailure)
    }

    private let state = Mutex(State())
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>]>([:])
    private let idleConnectionTimeout: Duration

    /// - Parameter idleConnectionTimeout: how long a kept-alive connection to
    ///   a replica may sit unused before it is closed.
    public init(idleConnectionTimeout: Duration = .seconds(60)) {
        self.idleConnectionTimeout = idleConnectionTimeout
    }

    // MARK: - The controller's side

    /// Sets a service's endpoints and settings; requests waiting for a free
    /// replica get one if the change made room. Pooled connections to
    /// endpoints no longer listed are closed.
    public func update(_ service: String, _ set: UpstreamSet) {
        let (grants, live, version) = state.withLock { state in
            var entry = state.services[service] ?? Service(set: set)
            entry.set = set
            entry.balancer.prune(to: set)
            state.services[service] = entry
            let grants = Self.dispatchWaiters(of: service, in: &state)
            return (grants, Self.refreshLive(&state), state.version)
        }
        for (grant, lease) in grants { grant(.success(lease)) }
        retainPooled(live, version: version)
    }

    /// Forgets a service: new requests get 503, waiting ones too; those in
    /// flight finish.
    public func remove(_ service: String) {
        let (waiters, live, version) = state.withLock { state in
            let waiters = state.services.removeValue(forKey: service)?.waiters ?? []
            return (waiters, Self.refreshLive(&state), state.version)
        }
        for waiter in waiters { waiter.grant(.failure(.noReplica)) }
        retainPooled(live, version: version)
    }

    /// The replica `id` is gone (its container ended): its connections, busy
    /// ones included, are closed on every loop. Call it after taking the
    /// replica out of its service's set.
    public func abandon(endpoint id: String) {
        for pool in pools.withLock({ Array($0.values) }) {
            pool.eventLoop.execute { pool.value.abandon(id) }
        }
    }

    /// Requests of a service being proxied now (not those waiting for a replica).
    public func inFlight(service: String) -> Int {
        state.withLock { $0.inFlight[service] ?? 0 }
    }

    /// Requests of a service waiting for a replica below its limit (an
    /// autoscaler counts them as demand too).
    public func waiting(service: String) -> Int {
        state.withLock { $0.services[service]?.waiters.count ?? 0 }
    }

    /// Requests on one endpoint now.
    public func inFlight(endpoint id: String) -> Int {
        state.withLock { $0.outstanding[id] ?? 0 }
    }

    /// Returns once no request is in flight on the endpoint, or after
    /// `timeout` (a replica's graceful stop: take it out of the set, then wait).
    public func waitUntilIdle(endpoint id: String, timeout: Duration) async {
        let ticket = state.withLock { state in
            state.nextTicket += 1
            return state.nextTicket
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }  // cancelled: it went idle
                self.resumeIdleWaiter(endpoint: id, ticket: ticket)
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let idle = state.withLock { state in
                    if state.outstanding[id, default: 0] == 0 || state.expiredIdleWaits.remove(ticket) != nil { return true }
                    state.idleWaiters[id, default: []].append((ticket, continuation))
                    return false
                }
                if idle { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    // MARK: - The gateway's side

    /// A replica for the next request of `service`, not one of `excluding`;
    /// or a place in its queue when every replica is at its limit.
    func acquire(_ service: String, excluding: Set<String> = [],
                 onGrant: @escaping @Sendable (Result<UpstreamLease, ProxyFailure>) -> Void) -> Acquisition {
        state.withLock { state in
            guard var entry = state.services[service] else { return .refused(.noReplica) }
            let picked = entry.balancer.pick(from: entry.set, outstanding: { state.outstanding[$0] ?? 0 }, excluding: excluding)
            switch picked {
            case .success(let endpoint):
                state.services[service] = entry
                return .leased(Self.lease(endpoint, of: service, set: entry.set, in: &state))
            case .failure(.noReplica):
                state.services[service] = entry
                return .refused(.noReplica)
            case .failure(.allBusy):
                guard entry.waiters.count < entry.set.queueLimit else {
                    state.services[service] = entry
                    return .refused(.queueFull)
                }
                state.nextTicket += 1
                entry.waiters.append(Waiter(ticket: state.nextTicket, grant: onGrant))
                state.services[service] = entry
                return .queued(ticket: state.nextTicket, timeout: entry.set.queueTimeout)
            }
        }
    }

    /// Takes a waiting request out of its queue; false when it was granted a
    /// replica already (its grant is on its way).
    func cancelWait(_ service: String, ticket: UInt64) -> Bool {
        state.withLock { state in
            guard let index = state.services[service]?.waiters.firstIndex(where: { $0.ticket == ticket }) else { return false }
            state.services[service]!.waiters.remove(at: index)
            return true
        }
    }

    /// The request's response ended or failed: its replica may take another,
    /// which goes to the first request waiting, if any.
    func release(_ lease: UpstreamLease) {
        let (grants, idle) = state.withLock { state in
            let id = lease.endpoint.id
            let left = state.outstanding[id, default: 1] - 1
            state.outstanding[id] = left == 0 ? nil : left
            let flying = state.inFlight[lease.service, default: 1] - 1
            state.inFlight[lease.service] = flying == 0 ? nil : flying
            let idle = left == 0 ? state.idleWaiters.removeValue(forKey: id) ?? [] : []
            return (Self.dispatchWaiters(of: lease.service, in: &state), idle)
        }
        for (grant, lease) in grants { grant(.success(lease)) }
        for waiter in idle { waiter.continuation.resume() }
    }

    /// The connection pool of `eventLoop`, made on first use; called on that loop.
    func pool(on eventLoop: any EventLoop) -> UpstreamConnectionPool {
        pools.withLock { pools in
            if let pool = pools[ObjectIdentifier(eventLoop)] { return pool.value }
            let (live, version) = state.withLock { ($0.live, $0.version) }
            let pool = UpstreamConnectionPool(eventLoop: eventLoop, live: live, version: version,
                                              idleTimeout: idleConnectionTimeout)
            pools[ObjectIdentifier(eventLoop)] = NIOLoopBound(pool, eventLoop: eventLoop)
            return pool
        }
    }

    // MARK: - Internals

    private static func lease(_ endpoint: UpstreamEndpoint, of service: String, set: UpstreamSet,
                              in state: inout State) -> UpstreamLease {
        state.outstanding[endpoint.id, default: 0] += 1
        state.inFlight[service, default: 0] += 1
        return UpstreamLease(service: service, endpoint: endpoint, timeout: set.timeout ?? UpstreamSet.defaultTimeout)
    }

    /// Gives free replicas to waiting requests, first come first served.
    private static func dispatchWaiters(of service: String, in state: inout State)
        -> [(@Sendable (Result<UpstreamLease, ProxyFailure>) -> Void, UpstreamLease)]
    {
        guard var entry = state.services[service], !entry.waiters.isEmpty else { return [] }
        var grants: [(@Sendable (Result<UpstreamLease, ProxyFailure>) -> Void, UpstreamLease)] = []
        while let waiter = entry.waiters.first {
            guard case .success(let endpoint) = entry.balancer.pick(from: entry.set, outstanding: { state.outstanding[$0] ?? 0 })
            else { break }
            entry.waiters.removeFirst()
            grants.append((waiter.grant, lease(endpoint, of: service, set: entry.set, in: &state)))
        }
        state.services[service] = entry
        return grants
    }

    private static func refreshLive(_ state: inout State) -> Set<UpstreamEndpoint> {
        state.live = Set(state.services.values.flatMap(\.set.endpoints))
        state.version += 1
        return state.live
    }

    private func resumeIdleWaiter(endpoint id: String, ticket: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let index = state.idleWaiters[id]?.firstIndex(where: { $0.ticket == ticket }) else {
                state.expiredIdleWaits.insert(ticket)
                return nil
            }
            let waiter = state.idleWaiters[id]!.remove(at: index)
            if state.idleWaiters[id]!.isEmpty { state.idleWaiters[id] = nil }
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Tells every pool which endpoints are still listed, on its own loop.
    private func retainPooled(_ live: Set<UpstreamEndpoint>, version: Int) {
        for pool in pools.withLock({ Array($0.values) }) {
            pool.eventLoop.execute { pool.value.retain(live, version: version) }
        }
    }
}
