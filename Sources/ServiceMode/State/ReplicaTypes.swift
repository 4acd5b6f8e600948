/// One replica of a service: a slot (its place among the desired replicas,
/// 0-based, stable across replacements) and a serial that tells successive
/// replicas of a slot apart.
public struct ReplicaID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let service: String
    public let slot: Int
    public let serial: Int

    public init(service: String, slot: Int, serial: Int) {
        self.service = service
        self.slot = slot
        self.serial = serial
    }

    /// `web-0.3`: slot 0, the fourth replica started in it.
    public var description: String { "\(service)-\(slot).\(serial)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.service, lhs.slot, lhs.serial) < (rhs.service, rhs.slot, rhs.serial)
    }
}

/// Where a replica is in its life.
public enum ReplicaPhase: String, Sendable, Equatable {
    /// Its container is being created and started.
    case starting
    /// Started; waits for its first successful probe before it takes traffic.
    case warming
    /// In rotation.
    case ready
    /// Out of rotation, being stopped (or its start is being undone).
    case stopping
}

/// A replica found running when the backend starts: adopted when it fits
/// the desired state, removed otherwise.
public struct FoundReplica: Sendable, Equatable {
    public var container: String
    public var slot: Int
    public var serial: Int
    public var revision: String
    public var running: Bool
    public var address: String?
    /// The port it listens on (its revision's), when known.
    public var port: Int?

    public init(container: String, slot: Int, serial: Int, revision: String, running: Bool, address: String?,
                port: Int? = nil) {
        self.container = container
        self.slot = slot
        self.serial = serial
        self.revision = revision
        self.running = running
        self.address = address
        self.port = port
    }
}

/// How a replica ended when nobody asked it to.
public struct ReplicaExit: Sendable, Equatable {
    /// The container's exit code; nil when it did not exit on its own (it
    /// failed to start, or was stopped for failing its health check).
    public var exitCode: Int?
    /// Said to the operator: "exited with code 1", "health check failed 3 times: …".
    public var reason: String
    /// The last lines it printed, newest last.
    public var lastLines: [String]

    public init(exitCode: Int?, reason: String, lastLines: [String] = []) {
        self.exitCode = exitCode
        self.reason = reason
        self.lastLines = lastLines
    }
}

/// What a backend does for a ``ServiceState``.
public enum ServiceAction: Sendable, Equatable {
    /// Create and start a container for the replica, of the spec's revision;
    /// then report ``ServiceState/started(_:container:address:now:)`` or
    /// ``ServiceState/startFailed(_:exit:now:)``.
    case start(ReplicaID)
    /// Probe the replica once, on its own port (its revision's); then report
    /// ``ServiceState/probed(_:healthy:message:now:)``.
    case probe(ReplicaID, container: String, address: String?, port: Int)
    /// Take the replica out of rotation (already done in the published set),
    /// let its requests finish, SIGTERM, SIGKILL after `grace`, remove the
    /// container; then report ``ServiceState/stopped(_:now:)``.
    case stop(ReplicaID, container: String, grace: Duration)
    /// Remove a container that has exited (or a leftover found at start).
    case remove(container: String)
    /// The set of ready replicas changed: tell the gateway.
    case publish
    /// Something the operator should read in the log.
    case note(ServiceNote)
}

/// A line for the operator.
public enum ServiceNote: Sendable, Equatable {
    /// A replica took traffic, `after` its start (or its adoption).
    case ready(ReplicaID, adopted: Bool, after: Duration)
    /// A replica ended on its own; the slot starts again after `retryIn`.
    case ended(ReplicaID, ReplicaExit, restarts: Int, retryIn: Duration)
    /// A replica left the rotation for failing its probes.
    case unhealthy(ReplicaID, reason: String)
}
