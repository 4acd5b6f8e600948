/// Where one workload runs, why, and the figures behind it.
public struct Decision: Sendable, Hashable, Codable {
    /// Where the controller runs a workload.
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        case function, service, task
    }

    /// One of the ways to run a workload that placement prices and compares.
    public enum Option: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
        /// Function mode, environments started on demand.
        case function
        /// Function mode with environments kept warm (provisioned concurrency).
        case provisioned
        /// Service mode: always-on replicas.
        case service
        /// Task mode: one run-to-completion container per event.
        case task

        /// The mode this option runs in.
        public var mode: Mode {
            switch self {
            case .function, .provisioned: .function
            case .service: .service
            case .task: .task
            }
        }

        /// The order ties are broken in: the cheaper-to-keep option first.
        var rank: Int {
            switch self {
            case .function: 0
            case .provisioned: 1
            case .service: 2
            case .task: 3
            }
        }

        public static func < (lhs: Option, rhs: Option) -> Bool { lhs.rank < rhs.rank }
    }

    /// The workload's name.
    public var workload: String
    /// The chosen mode.
    public var mode: Mode
    /// The chosen option (function mode is either on demand or provisioned).
    public var option: Option
    /// Why, in words with figures; the first is the main reason.
    public var reasons: [Reason]
    public var figures: Figures
    /// The hard rule that fixed the mode, if one did.
    public var hardRule: HardRule?
    /// Set when the manifest's explicit mode breaks a hard rule: the decision
    /// then follows the hard rule, and `validate` reports the manifest error.
    public var violation: Violation?

    /// The main reason, in words.
    public var mainReason: String { reasons.first?.text ?? "" }

    /// Whether the chosen option fits the machine's memory.
    public var fitsMachine: Bool { figures.capacity.fits }

    public init(
        workload: String,
        mode: Mode,
        option: Option,
        reasons: [Reason],
        figures: Figures,
        hardRule: HardRule? = nil,
        violation: Violation? = nil
    ) {
        self.workload = workload
        self.mode = mode
        self.option = option
        self.reasons = reasons
        self.figures = figures
        self.hardRule = hardRule
        self.violation = violation
    }
}

/// A rule that fixes the mode whatever the costs.
public enum HardRule: String, Sendable, Hashable, CaseIterable, Codable {
    /// A timeout over function mode's 15-minute limit: task or service.
    case timeoutOverFunctionLimit = "timeout-over-function-limit"
    /// A stateful workload: service.
    case stateful
    /// Streaming or websockets: service.
    case longLivedConnections = "long-lived-connections"

    /// The modes the rule allows.
    public var allowedModes: Set<Decision.Mode> {
        switch self {
        case .timeoutOverFunctionLimit: [.task, .service]
        case .stateful, .longLivedConnections: [.service]
        }
    }
}

/// An explicit mode that breaks a hard rule.
public struct Violation: Sendable, Hashable, Codable {
    /// The mode the manifest asked for.
    public var requested: PlacementInput.RequestedMode
    /// The rule it breaks.
    public var rule: HardRule
    /// The problem in words.
    public var message: String

    public init(requested: PlacementInput.RequestedMode, rule: HardRule, message: String) {
        self.requested = requested
        self.rule = rule
        self.message = message
    }
}

/// One reason for a decision: a sentence with its figures.
public struct Reason: Sendable, Hashable, Codable {
    /// What the reason is about.
    public enum Kind: String, Sendable, Hashable, Codable {
        case hardRule = "hard-rule"
        case explicit
        case cost
        case latency
        case hysteresis
        case capacity
        case limits
        case assumption
    }

    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }
}
