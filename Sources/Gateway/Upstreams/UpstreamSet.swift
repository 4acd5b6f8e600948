/// One replica the gateway may send requests to.
public struct UpstreamEndpoint: Sendable, Hashable {
    /// The replica's id (a container id); in-flight counts are kept under it.
    public var id: String
    /// An IPv4 address.
    public var host: String
    public var port: Int
    /// The revision the replica runs: a service's traffic is split between groups by weight.
    public var group: String

    public init(id: String, host: String, port: Int, group: String) {
        self.id = id
        self.host = host
        self.port = port
        self.group = group
    }
}

/// What the gateway knows of one service: its ready endpoints and how to treat them.
public struct UpstreamSet: Sendable {
    /// Ready replicas only.
    public var endpoints: [UpstreamEndpoint]
    /// Group → weight; a group with no entry weighs 1, one weighing 0 gets no requests.
    /// Rollouts shift these.
    public var weights: [String: Double]
    /// The most requests one replica serves at once (Knative's
    /// `containerConcurrency`); nil: no limit.
    public var perReplicaLimit: Int?
    /// Requests that may wait for a free replica when every one is at its limit.
    public var queueLimit: Int
    /// How long one may wait for a free replica before it is answered 503.
    public var queueTimeout: Duration
    /// How long a replica may take to send its response head (504 after);
    /// nil: ``UpstreamSet/defaultTimeout``.
    public var timeout: Duration?

    /// The timeout of a route that sets none.
    public static let defaultTimeout = Duration.seconds(60)

    public init(endpoints: [UpstreamEndpoint], weights: [String: Double] = [:], perReplicaLimit: Int? = nil,
                queueLimit: Int = 256, queueTimeout: Duration = .seconds(10), timeout: Duration? = nil) {
        self.endpoints = endpoints
        self.weights = weights
        self.perReplicaLimit = perReplicaLimit
        self.queueLimit = queueLimit
        self.queueTimeout = queueTimeout
        self.timeout = timeout
    }

    /// The weight of `group`.
    func weight(of group: String) -> Double { weights[group] ?? 1 }
}
