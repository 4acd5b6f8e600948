/// Identifies one execution environment (one function-mode container).
public struct EnvironmentID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Identifies one invocation; it is also the `Lambda-Runtime-Aws-Request-Id`.
public struct InvocationID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// The name of a function-mode workload.
public typealias FunctionName = String

/// How an environment came to be, as `AWS_LAMBDA_INITIALIZATION_TYPE` says it.
public enum InitializationType: String, Sendable {
    case onDemand = "on-demand"
    case provisioned = "provisioned-concurrency"
}

/// The settings of one function's pool of environments.
public struct PoolSettings: Sendable, Equatable {
    /// Most environments this function may have at once (its reserved
    /// concurrency, or the controller's limit when none is reserved).
    public var maxEnvironments: Int
    /// Environments kept initialised and ready at all times.
    public var provisioned: Int
    /// How long an environment stays thawed after its last invocation before it
    /// is frozen (OpenWhisk pauses 50 ms after use), so a busy environment never
    /// pays a thaw.
    public var freezeGrace: Duration
    /// How long an idle environment lives before it is reaped (scale to zero).
    /// Provisioned environments are never reaped.
    public var reapAfter: Duration
    /// The function's timeout: an invocation running longer is ended and its
    /// environment replaced.
    public var timeout: Duration
    /// How long an environment may take from start to its first `/next`.
    public var initTimeout: Duration
    /// Invocations that may wait when every environment is busy and no more
    /// may start; 0 throttles them at once, as Lambda does. Service mode's
    /// always-warm environments queue instead.
    public var waitingLimit: Int

    /// A wait so long it never ends: an always-warm environment is never frozen.
    public static let never = Duration.seconds(3_153_600_000)

    public init(
        maxEnvironments: Int,
        provisioned: Int = 0,
        freezeGrace: Duration = .milliseconds(50),
        reapAfter: Duration = .seconds(300),
        timeout: Duration = .seconds(3),
        initTimeout: Duration = .seconds(10),
        waitingLimit: Int = 0
    ) {
        self.maxEnvironments = max(0, maxEnvironments)
        self.provisioned = max(0, min(provisioned, self.maxEnvironments))
        self.freezeGrace = freezeGrace
        self.reapAfter = reapAfter
        self.timeout = timeout
        self.initTimeout = initTimeout
        self.waitingLimit = max(0, waitingLimit)
    }
}

/// Why an environment is being destroyed.
public enum DestroyReason: Sendable, Equatable {
    case idle
    case timedOut
    case initFailed
    case initTimedOut
    case exited
    case shutdown
    case replaced
}

/// Why an invocation ended without a response from the function.
public enum InvocationFailure: Sendable, Equatable {
    /// The function ran past its timeout (`Task timed out after N.NN seconds`).
    case timedOut(after: Duration)
    /// The runtime process exited while handling the invocation.
    case runtimeExited(exitCode: Int, outOfMemory: Bool)
    /// The runtime reported an initialisation error (`/runtime/init/error`)
    /// or exited before asking for work.
    case initFailed(errorType: String, message: String)
    /// The environment could not be started at all (engine error).
    case environmentUnavailable(message: String)
    /// The runtime's connection closed before the invocation reached it (a
    /// runtime that vanished): the environment is replaced (`Runtime.ExitError`).
    case runtimeVanished
    /// The controller is shutting down.
    case shuttingDown
}

/// Why an invocation was refused before it started.
public enum Rejection: Sendable, Equatable {
    /// Every environment the function may have is busy
    /// (`TooManyRequestsException`, reason `ReservedFunctionConcurrentInvocationLimitExceeded`).
    case reservedConcurrencyExceeded(limit: Int)
    /// The controller-wide limit of environments is reached
    /// (`TooManyRequestsException`, reason `ConcurrentInvocationLimitExceeded`).
    case globalConcurrencyExceeded(limit: Int)
    /// The function has a reserved concurrency of zero: it is throttled.
    case throttled
    /// No such function in this pool.
    case unknownFunction
}

/// What the I/O layer must do; the fleet never does I/O itself.
public enum FleetAction: Sendable, Equatable {
    /// Create and start a container for a new environment.
    case startEnvironment(FunctionName, EnvironmentID, InitializationType)
    /// Answer the environment's parked `GET /next` with this invocation.
    /// `cold` is true for the first invocation an on-demand environment serves;
    /// `initDuration` is then the time from start to its first `/next`.
    case deliver(InvocationID, to: EnvironmentID, cold: Bool, initDuration: Duration?)
    /// Pause the environment's container (engine pause); report `frozen` or `freezeFailed`.
    case freeze(EnvironmentID)
    /// Unpause the environment's container; report `thawed` or `thawFailed`.
    case thaw(EnvironmentID)
    /// Kill and remove the environment's container; report `environmentExited`.
    case destroy(EnvironmentID, DestroyReason)
    /// End an invocation with a failure (its caller is waiting).
    case fail(InvocationID, InvocationFailure)
    /// Refuse an invocation at once.
    case reject(InvocationID, Rejection)
}

/// Outcome of a runtime's call about an invocation (`/response` or `/error`).
public enum RuntimeCallVerdict: Sendable, Equatable {
    /// The call is accepted: the invocation is finished.
    case accepted
    /// The request id is not the one this environment is handling, and it is
    /// another environment's (403).
    case forbidden
    /// The request id is unknown or no longer active (400).
    case unknownRequest
}
