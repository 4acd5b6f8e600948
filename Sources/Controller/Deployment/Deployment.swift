import Manifest
import Placement

/// The desired state of one controller: every workload of the manifest with
/// its mode, its runner and its revision. Pure (no I/O, no clock) and
/// diffable: a changed manifest or a re-placement is "old Deployment → new
/// Deployment → ``DeploymentDiff``".
public struct Deployment: Sendable, Equatable {
    /// The workloads, in the manifest's order.
    public private(set) var workloads: [DeployedWorkload]

    public init(_ workloads: [DeployedWorkload]) {
        self.workloads = workloads
    }

    /// The manifest's workloads placed as `decisions` say (matched by name; a
    /// workload with no decision is placed in the mode its manifest names, or
    /// function mode), for the manifest folder labelled `project`.
    public init(manifest: Manifest, decisions: [Decision], project: String) {
        let modes = Dictionary(decisions.map { ($0.workload, $0.mode) }, uniquingKeysWith: { first, _ in first })
        self.init(manifest.workloads.map { workload in
            DeployedWorkload(workload, mode: modes[workload.name] ?? Self.declaredMode(workload), project: project)
        })
    }

    public subscript(name: String) -> DeployedWorkload? {
        workloads.first { $0.name == name }
    }

    /// Which runner runs `name`; nil when no such workload is deployed.
    public func kind(of name: String) -> RunnerKind? { self[name]?.kind }

    /// The workloads a runner of `kind` runs.
    public func workloads(of kind: RunnerKind) -> [DeployedWorkload] {
        workloads.filter { $0.kind == kind }
    }

    /// What changed from `old` to this deployment. A workload is changed when
    /// its revision differs (a new spec, or a move to another runner).
    public func diff(from old: Deployment) -> DeploymentDiff {
        var diff = DeploymentDiff()
        let before = Dictionary(old.workloads.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let names = Set(workloads.map(\.name))
        for workload in workloads {
            guard let previous = before[workload.name] else {
                diff.added.append(workload)
                continue
            }
            if previous.revision == workload.revision {
                diff.unchanged.append(workload)
            } else {
                diff.changed.append(DeploymentDiff.Change(old: previous, new: workload))
            }
        }
        diff.removed = old.workloads.filter { !names.contains($0.name) }
        return diff
    }

    static func declaredMode(_ workload: Workload) -> Decision.Mode {
        switch workload.mode {
        case .service: .service
        case .task: .task
        case .auto, .function: .function
        }
    }
}

/// Old deployment → new: what a reconcile must do.
public struct DeploymentDiff: Sendable, Equatable {
    /// A workload whose spec or runner changed.
    public struct Change: Sendable, Equatable {
        public var old: DeployedWorkload
        public var new: DeployedWorkload
    }

    public var added: [DeployedWorkload] = []
    public var removed: [DeployedWorkload] = []
    public var changed: [Change] = []
    public var unchanged: [DeployedWorkload] = []

    /// Nothing to do.
    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
}
