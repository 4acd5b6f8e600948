import Foundation
import Gateway
import ServiceMode

/// What joins the service host to the gateway: ready replicas become a
/// route's upstream set, and the gateway's in-flight counts tell the host
/// when a replica it stops has finished its requests.
enum ServiceWiring {
    /// The gateway's view of a service: its ready replicas, weighted by revision.
    static func upstreams(_ spec: ServiceSpec, _ ready: [ReadyReplica]) -> UpstreamSet {
        UpstreamSet(
            endpoints: ready.map { UpstreamEndpoint(id: $0.container, host: $0.address, port: $0.port, group: $0.revision) },
            perReplicaLimit: spec.perReplica, timeout: spec.requestTimeout)
    }

    /// A line of `tandem up`'s output for the operator.
    static func line(_ note: ServiceNote) -> String {
        switch note {
        case .ready(let id, let adopted, let after):
            return adopted
                ? "\(id.service): replica \(id) adopted from an earlier run, healthy"
                : "\(id.service): replica \(id) healthy after \(Controller.seconds(after))"
        case .ended(let id, let exit, let restarts, let retryIn):
            var line = "\(id.service): replica \(id) \(exit.reason); restart \(restarts)"
            line += retryIn > .zero ? ", next start in \(Controller.seconds(retryIn)) (crash loop back-off)" : ", replaced now"
            if let last = exit.lastLines.last { line += "; last output: \(last)" }
            return line
        case .unhealthy(let id, let reason):
            return "\(id.service): replica \(id) left the rotation: \(reason)"
        }
    }
}

/// The gateway's in-flight counts as the service host's way to wait for a replica's requests.
struct GatewayReplicaTraffic: ReplicaTraffic {
    let upstreams: UpstreamRegistry

    func waitUntilIdle(replica container: String, timeout: Duration) async {
        await upstreams.waitUntilIdle(endpoint: container, timeout: timeout)
    }
}
