/// What runs services, at the level of desired state: keep this spec's
/// replicas running, stop that service, tell which replicas are ready. The
/// local backend supervises containers on one engine itself; a Docker Swarm
/// backend would map the same calls onto `/services` (whose UpdateConfig
/// rolls, and whose orchestrator restarts and reschedules). Neither the
/// gateway nor the controller sees the difference: both only see
/// ``ReadyReplica``s (through the callback a backend is made with) and ``views()``.
public protocol ServiceBackend: Sendable {
    /// Finds the replicas an earlier controller left for these services and
    /// adopts those that fit (the others, and replicas of services not in
    /// `specs`, are removed); then keeps every spec running. Call once, first.
    func start(_ specs: [ServiceSpec]) async throws(ServiceBackendError)
    /// Keeps `spec` running: adds the service, or moves it to the new spec.
    func apply(_ spec: ServiceSpec)
    /// Stops every replica of the service and forgets it.
    func remove(_ name: String)
    /// The replicas of a service that take traffic now.
    func readyReplicas(of name: String) -> [ReadyReplica]
    /// What `tandem ps` shows, by service.
    func views() -> [ServiceView]
    /// The supervision (probes, restarts, back-off), until cancelled or until
    /// a drain is over; then every replica is stopped and removed.
    func run() async
    /// Stops every replica gracefully: each gets its own stop timeout, at most `within`.
    func drain(within: Duration)
    /// Stops and removes every replica now; returns when they are gone. Safe
    /// to call more than once.
    func shutdown() async
}

/// Why a backend could not do what was asked, with the engine's error as the cause.
public struct ServiceBackendError: Error, CustomStringConvertible {
    public var message: String
    public var underlying: (any Error)?

    public init(_ message: String, underlying: (any Error)? = nil) {
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}

/// How a backend learns that a replica's requests are over before it stops
/// it: the gateway counts them.
public protocol ReplicaTraffic: Sendable {
    /// Returns once no request is in flight on the replica (by container id), or after `timeout`.
    func waitUntilIdle(replica container: String, timeout: Duration) async
}
