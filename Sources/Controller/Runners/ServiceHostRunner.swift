import Gateway
import Manifest
import ServiceMode

/// The service host (service mode: supervised replicas behind the gateway)
/// as a runner. How replicas run is the backend's business.
struct ServiceHostRunner: WorkloadRunner {
    let backend: any ServiceBackend
    /// Requests in flight through the gateway, by service.
    let inFlight: @Sendable (String) -> Int

    var kind: RunnerKind { .serviceHost }

    func refusal(for workload: DeployedWorkload) -> String? {
        guard workload.workload.contract != .http else { return nil }
        return "contract: \(workload.workload.contract.rawValue) in service mode is not part of this version yet "
            + "(service mode runs http servers); use mode: function"
    }

    func start(_ workloads: [DeployedWorkload]) async throws {
        try await backend.start(workloads.compactMap(\.service))
    }

    func deploy(_ workload: DeployedWorkload) async throws {
        guard let spec = workload.service else { throw RunnerMismatch(workload: workload.name, kind: kind) }
        backend.apply(spec)
    }

    func remove(_ name: String) async { backend.remove(name) }

    func routeTarget(_ name: String) -> RouteTarget? { .service(name) }

    func views() -> [WorkloadView] {
        backend.views().map { view in
            WorkloadView(name: view.name, service: ProcessList.Service(
                revision: view.revision, desired: view.desired, ready: view.ready, restarts: view.restarts,
                inFlight: inFlight(view.name),
                crashLoopRetrySeconds: view.crashLoopRetryIn.map {
                    Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18
                },
                lastExit: view.lastExit.map {
                    ProcessList.Service.Exit(exitCode: $0.exitCode, reason: $0.reason, lastLines: $0.lastLines)
                },
                replicas: view.replicas.map {
                    ProcessList.Service.Replica(id: $0.id.description, phase: $0.phase.rawValue, revision: $0.revision,
                                                address: $0.address, container: $0.container.map { String($0.prefix(12)) },
                                                failures: $0.failures, problem: $0.problem)
                }))
        }
    }

    func drain(within: Swift.Duration) { backend.drain(within: within) }

    func shutdown() async { await backend.shutdown() }

    func run() async { await backend.run() }
}
