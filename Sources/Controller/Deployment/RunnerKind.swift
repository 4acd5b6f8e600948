import Manifest
import Placement

/// What runs a workload: one runner per kind, behind ``WorkloadRunner``.
public enum RunnerKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Function mode, `lambda` and `http` contracts: environments started on
    /// demand, frozen between invocations, reaped when idle; and a `lambda`
    /// workload in service mode, whose environments are always warm.
    case functionHost
    /// Function mode, `command` contract: one container per event.
    case commandRunner
    /// Service mode: supervised long-lived replicas of an http server.
    case serviceHost
    /// Task mode: run-to-completion containers.
    case taskRunner

    /// The runner for a workload of `contract` placed in `mode`.
    public init(mode: Decision.Mode, contract: Contract) {
        switch mode {
        case .function: self = contract == .command ? .commandRunner : .functionHost
        // A lambda workload's replicas are always-warm environments.
        case .service: self = contract == .lambda ? .functionHost : .serviceHost
        case .task: self = .taskRunner
        }
    }
}
