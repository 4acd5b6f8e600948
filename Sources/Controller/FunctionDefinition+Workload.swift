import FunctionMode
import Manifest

extension FunctionDefinition {
    /// A function-mode workload of the manifest, as function mode runs it.
    /// - Parameters:
    ///   - image: the image reference to run (built or named).
    ///   - alwaysWarm: a `lambda` workload placed in service mode: `replicas.min`
    ///     (at least one) always-warm environments, with no time limit but
    ///     Lambda's 15 minutes unless `timeout` says otherwise.
    public init(workload: Workload, image: String, alwaysWarm: Bool = false) {
        var environment: [String: String] = [:]
        for variable in workload.env { environment[variable.name] = variable.value }
        self.init(
            name: workload.name, image: image, handler: workload.handler, command: workload.command,
            entrypoint: workload.entrypoint, environment: environment,
            memoryMiB: Int(workload.memory.bytes >> 20),
            timeout: (workload.timeout ?? Workload.defaultFunctionTimeout).swiftDuration,
            tmpBytes: workload.tmp.bytes,
            reservedConcurrency: workload.concurrency.reserved,
            provisionedConcurrency: workload.concurrency.provisioned ?? 0)
        if workload.contract == .http {
            contract = .http(port: workload.port ?? Workload.defaultHTTPPort)
        }
        if alwaysWarm {
            let replicas = max(1, workload.replicas?.min ?? 1)
            self.alwaysWarm = true
            reservedConcurrency = replicas
            provisionedConcurrency = replicas
            timeout = (workload.timeout ?? .minutes(15)).swiftDuration
        }
    }
}

extension Workload {
    /// The image tandem runs for this workload: the named image, or the tag it
    /// gives the image it builds, `tandem/NAME-PROJECT:latest` — with the
    /// project's label, so two projects' workloads of one name never rebuild
    /// each other's image.
    public func imageReference(project: String) -> String {
        switch source {
        case .image(let reference): reference
        case .build: "tandem/\(name)-\(project):latest"
        }
    }
}
