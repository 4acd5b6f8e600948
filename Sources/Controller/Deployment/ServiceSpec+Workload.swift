import Manifest
import ServiceMode

extension ServiceSpec {
    /// A service-mode workload as the service host runs it. `replicas.min`
    /// replicas run (at least one: scaling with traffic, and to zero, comes
    /// with the autoscaler); without a health check, a replica is ready when
    /// its port answers HTTP.
    init(_ workload: Workload, revision: String, image: String) {
        let health: HealthPolicy
        if let check = workload.health {
            let probe: HealthPolicy.Probe = switch check.probe {
            case .http(let path): .http(path: path)
            case .command(let command): .command(command)
            }
            health = HealthPolicy(probe: probe, interval: check.interval.swiftDuration, timeout: check.timeout.swiftDuration,
                                  retries: check.retries, startPeriod: check.startPeriod.swiftDuration)
        } else {
            health = HealthPolicy(probe: .port)
        }
        self.init(
            name: workload.name, revision: revision, image: image,
            replicas: max(1, workload.replicas?.min ?? 1),
            port: workload.port ?? Workload.defaultHTTPPort,
            command: workload.command, entrypoint: workload.entrypoint,
            environment: workload.env.map { (name: $0.name, value: $0.value) },
            memoryBytes: Int64(workload.memory.bytes), cpus: workload.cpus, tmpBytes: Int64(workload.tmp.bytes),
            health: health,
            stopTimeout: (workload.stopTimeout ?? Workload.defaultStopTimeout).swiftDuration,
            perReplica: workload.concurrency.perReplica,
            requestTimeout: workload.timeout?.swiftDuration,
            volumePath: workload.state == .stateful ? workload.volume : nil)
    }
}

extension TaskSpec {
    /// A task-mode workload as the task runner runs it: no time limit unless
    /// `timeout` is set; `retries` re-runs of a failed run; at most
    /// `concurrency.reserved` runs at once.
    init(_ workload: Workload, revision: String, image: String) {
        self.init(
            name: workload.name, revision: revision, image: image,
            command: workload.command, entrypoint: workload.entrypoint,
            environment: workload.env.map { (name: $0.name, value: $0.value) },
            memoryBytes: Int64(workload.memory.bytes), cpus: workload.cpus, tmpBytes: Int64(workload.tmp.bytes),
            timeout: workload.timeout?.swiftDuration, retries: workload.retries ?? 0,
            reserved: workload.concurrency.reserved,
            stopTimeout: (workload.stopTimeout ?? Workload.defaultStopTimeout).swiftDuration)
    }
}
