import FunctionMode
import Manifest
import Placement
import ServiceMode

/// One workload as the controller hands it to its runner.
public struct DeployedWorkload: Sendable, Equatable {
    public var name: String
    /// Where placement put it.
    public var mode: Decision.Mode
    /// What runs it.
    public var kind: RunnerKind
    /// The version of its spec (see ``Revision``): the runner kind, the image
    /// reference and every setting its runner uses. Triggers, routes and the
    /// event queue's retry settings are the controller's, not the runner's.
    public var revision: Revision
    /// The image its containers run: the named one, or the tag tandem builds.
    public var image: String
    /// The manifest's entry (its triggers, retries and service settings).
    public var workload: Workload
    /// What a function-mode runner needs; nil in service and task mode.
    public var function: FunctionDefinition?
    /// What the service host needs; nil in the other modes.
    public var service: ServiceSpec?
    /// What the task runner needs; nil in the other modes.
    public var task: TaskSpec?

    /// The workload placed in `mode`, for a manifest in the folder labelled `project`.
    public init(_ workload: Workload, mode: Decision.Mode, project: String) {
        name = workload.name
        self.mode = mode
        kind = RunnerKind(mode: mode, contract: workload.contract)
        image = workload.imageReference(project: project)
        self.workload = workload
        switch kind {
        case .functionHost, .commandRunner:
            let definition = FunctionDefinition(workload: workload, image: image, alwaysWarm: mode == .service)
            function = definition
            revision = Revision(fields: [("kind", kind.rawValue)] + Self.fields(of: definition))
        case .serviceHost, .taskRunner:
            function = nil
            revision = Revision(fields: [("kind", kind.rawValue), ("image", image)] + Self.serviceFields(of: workload))
        }
        if kind == .serviceHost {
            service = ServiceSpec(workload, revision: revision.rawValue, image: image)
        }
        if kind == .taskRunner {
            task = TaskSpec(workload, revision: revision.rawValue, image: image)
        }
    }

    /// Every field of a function definition, in a fixed order.
    static func fields(of definition: FunctionDefinition) -> [(String, String)] {
        let contract = switch definition.contract {
        case .lambda: "lambda"
        case .http(let port): "http:\(port)"
        }
        return [
            ("image", definition.image),
            ("contract", contract),
            ("handler", String(describing: definition.handler)),
            ("command", String(describing: definition.command)),
            ("entrypoint", String(describing: definition.entrypoint)),
            ("environment", definition.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: "\u{0}")),
            ("memoryMiB", String(definition.memoryMiB)),
            ("timeout", String(describing: definition.timeout)),
            ("tmpBytes", String(definition.tmpBytes)),
            ("reservedConcurrency", String(describing: definition.reservedConcurrency)),
            ("provisionedConcurrency", String(definition.provisionedConcurrency)),
            ("alwaysWarm", String(definition.alwaysWarm)),
        ]
    }

    /// The settings a service or task runner will use, in a fixed order.
    static func serviceFields(of workload: Workload) -> [(String, String)] {
        [
            ("contract", workload.contract.rawValue),
            ("handler", String(describing: workload.handler)),
            ("command", String(describing: workload.command)),
            ("entrypoint", String(describing: workload.entrypoint)),
            ("environment", workload.env.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{0}")),
            ("port", String(describing: workload.port)),
            ("memory", String(workload.memory.bytes)),
            ("cpus", String(describing: workload.cpus)),
            ("timeout", String(describing: workload.timeout?.milliseconds)),
            ("tmp", String(workload.tmp.bytes)),
            ("concurrency", String(describing: workload.concurrency)),
            ("replicas", String(describing: workload.replicas)),
            ("health", String(describing: workload.health)),
            ("retries", String(describing: workload.retries)),
            ("state", workload.state.rawValue),
            ("stopTimeout", String(describing: workload.stopTimeout?.milliseconds)),
            ("volume", String(describing: workload.volume)),
        ]
    }
}
