/// Where a workload runs: the mode recorded in the ledger and in placement history.
///
/// Stored as its raw text (`function`, `service`, `task`).
public enum RunMode: String, Codable, Sendable, Hashable, CaseIterable {
    /// Lambda-style: environments started on demand, one request at a time.
    case function
    /// Fargate-style long-lived replicas.
    case service
    /// Fargate-style run-to-completion tasks.
    case task
}
