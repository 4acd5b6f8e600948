/// A task workload (`mode: task`): a container that runs to completion,
/// started on request. The controller makes it from the manifest.
public struct TaskSpec: Sendable, Equatable {
    public var name: String
    public var revision: String
    public var image: String
    public var command: [String]?
    public var entrypoint: [String]?
    /// Environment variables, in the manifest's order.
    public var environment: [(name: String, value: String)]
    public var memoryBytes: Int64
    public var cpus: Double?
    public var tmpBytes: Int64
    /// The longest one run may take (nil: no limit, like Fargate).
    public var timeout: Duration?
    /// Re-runs of a failed run (0: none).
    public var retries: Int
    /// Runs at once (nil: only the machine-wide limit); later ones wait.
    public var reserved: Int?
    /// Time between SIGTERM and SIGKILL when a run is stopped.
    public var stopTimeout: Duration
    /// The wait before the first re-run, doubled each time up to `retryCap`.
    public var retryBackoff: Duration
    public var retryCap: Duration

    public init(
        name: String, revision: String, image: String, command: [String]? = nil, entrypoint: [String]? = nil,
        environment: [(name: String, value: String)] = [], memoryBytes: Int64 = 512 << 20, cpus: Double? = nil,
        tmpBytes: Int64 = 64 << 20, timeout: Duration? = nil, retries: Int = 0, reserved: Int? = nil,
        stopTimeout: Duration = .seconds(10), retryBackoff: Duration = .seconds(2), retryCap: Duration = .seconds(60)
    ) {
        self.name = name
        self.revision = revision
        self.image = image
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.memoryBytes = memoryBytes
        self.cpus = cpus
        self.tmpBytes = tmpBytes
        self.timeout = timeout
        self.retries = max(0, retries)
        self.reserved = reserved
        self.stopTimeout = stopTimeout
        self.retryBackoff = retryBackoff
        self.retryCap = retryCap
    }

    public static func == (lhs: TaskSpec, rhs: TaskSpec) -> Bool {
        lhs.name == rhs.name && lhs.revision == rhs.revision && lhs.image == rhs.image && lhs.command == rhs.command
            && lhs.entrypoint == rhs.entrypoint && lhs.environment.map(\.name) == rhs.environment.map(\.name)
            && lhs.environment.map(\.value) == rhs.environment.map(\.value) && lhs.memoryBytes == rhs.memoryBytes
            && lhs.cpus == rhs.cpus && lhs.tmpBytes == rhs.tmpBytes && lhs.timeout == rhs.timeout
            && lhs.retries == rhs.retries && lhs.reserved == rhs.reserved && lhs.stopTimeout == rhs.stopTimeout
            && lhs.retryBackoff == rhs.retryBackoff && lhs.retryCap == rhs.retryCap
    }

    /// The wait before re-run number `retry` (1-based).
    public func backoff(beforeRetry retry: Int) -> Duration {
        var delay = retryBackoff
        for _ in 1..<max(1, retry) {
            delay = delay * 2
            if delay >= retryCap { return retryCap }
        }
        return min(delay, retryCap)
    }
}

/// Identifies one run of a task (all its attempts).
public struct TaskRunID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// How an attempt, or a run, ended.
public struct TaskEnd: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// Exit code 0.
        case succeeded
        /// A non-zero exit, or the container could not start.
        case failed
        /// Stopped at its timeout.
        case timedOut
        /// Killed for exceeding its memory limit.
        case outOfMemory
        /// Stopped because the controller stopped, before it ended.
        case cancelled
    }

    public var kind: Kind
    public var exitCode: Int?
    /// Said to the operator: "exited with code 3", "timed out after 5s".
    public var reason: String

    public init(_ kind: Kind, exitCode: Int?, reason: String) {
        self.kind = kind
        self.exitCode = exitCode
        self.reason = reason
    }
}
