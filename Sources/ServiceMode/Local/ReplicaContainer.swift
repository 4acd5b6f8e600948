import Engine

/// A replica as the engine sees it: its container spec, name and labels.
enum ReplicaContainer {
    static let slotLabel = "tandem.slot"
    static let serialLabel = "tandem.serial"
    static let portLabel = "tandem.port"

    /// The labels tandem finds its replicas by (see DESIGN.md's fixed interfaces).
    static func labels(_ id: ReplicaID, revision: String, project: String, port: Int) -> [String: String] {
        [
            portLabel: String(port),
            "tandem.workload": id.service,
            "tandem.mode": "service",
            "tandem.revision": revision,
            "tandem.project": project,
            slotLabel: String(id.slot),
            serialLabel: String(id.serial),
        ]
    }

    /// `tandem-<project>-web-0.3`: readable in `docker ps`, unique per engine.
    static func name(_ id: ReplicaID, project: String) -> String {
        "tandem-\(project)-\(id.service)-\(id.slot).\(id.serial)"
    }

    /// The workload's image, env and limits, plus `PORT`; an init process as
    /// PID 1 (so SIGTERM reaches a server that ignores it as PID 1, and
    /// zombies are reaped); no added capabilities and no privilege gain.
    static func spec(_ service: ServiceSpec, replica: ReplicaID, project: String, network: String) -> ContainerSpec {
        var spec = ContainerSpec(image: service.image, cmd: service.command,
                                 labels: labels(replica, revision: service.revision, project: project, port: service.port))
        spec.entrypoint = service.entrypoint
        var environment = service.environment.filter { $0.name != "PORT" }.map { "\($0.name)=\($0.value)" }
        environment.append("PORT=\(service.port)")
        spec.env = environment
        spec.stopTimeout = Int(service.stopTimeout.components.seconds)
        var host = supervised(memoryBytes: service.memoryBytes, cpus: service.cpus, tmpBytes: service.tmpBytes,
                              network: network)
        if let path = service.volumePath {
            host.mounts = [.volume(name: volumeName(replica, project: project), target: path)]
        }
        spec.hostConfig = host
        return spec
    }

    /// The settings every container of service and task mode runs with: its
    /// memory (no swap) and CPU limits, a pids limit, an init process as PID 1
    /// (so SIGTERM reaches a server that ignores it as PID 1, and zombies are
    /// reaped), no added capabilities, no privilege gain, and a sized `/tmp`.
    static func supervised(memoryBytes: Int64, cpus: Double?, tmpBytes: Int64, network: String) -> HostConfig {
        var host = HostConfig()
        host.memory = memoryBytes
        host.memorySwap = memoryBytes
        if let cpus { host.nanoCpus = Int64((cpus * 1e9).rounded()) }
        host.pidsLimit = 4096
        host.capAdd = []
        host.securityOpt = ["no-new-privileges"]
        host.`init` = true
        host.networkMode = network
        host.tmpfs = ["/tmp": "rw,nosuid,nodev,size=\(tmpBytes),mode=1777"]
        return host
    }

    /// A stateful service's volume for one slot: it outlives the slot's replicas.
    static func volumeName(_ id: ReplicaID, project: String) -> String {
        "tandem-\(project)-\(id.service)-\(id.slot)"
    }
}
