import Synchronization

/// The one admission point for the machine-wide limit on containers that run
/// workloads (`--max-environments`): function environments, command
/// containers (and, with service mode, replicas and task containers) all
/// count against the same limit, whatever runner asks.
///
/// A holder either reserves one slot at a time (``tryReserve(_:)`` /
/// ``release(_:)``), or keeps its own count and reports it (``setHeld(_:by:)``,
/// for ``FleetState``, which decides with ``held(byOthersThan:)`` passed in).
public final class Admission: Sendable {
    /// Who holds slots.
    public struct Holder: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The function host's environments.
        public static let functionEnvironments = Holder("functionEnvironments")
        /// The command runner's one-event containers.
        public static let commandContainers = Holder("commandContainers")
        /// Service mode's replicas.
        public static let serviceReplicas = Holder("serviceReplicas")
        /// Task mode's runs.
        public static let taskContainers = Holder("taskContainers")
    }

    /// Most slots held at once.
    public let limit: Int
    private let slots = Mutex<[Holder: Int]>([:])

    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Takes one slot for `holder` if the limit allows.
    public func tryReserve(_ holder: Holder) -> Bool {
        slots.withLock { slots in
            guard slots.values.reduce(0, +) < limit else { return false }
            slots[holder, default: 0] += 1
            return true
        }
    }

    /// Takes one slot for `holder` whatever the limit: for a container that
    /// already runs (a replica adopted from an earlier controller).
    public func reserveRegardless(_ holder: Holder) {
        slots.withLock { $0[holder, default: 0] += 1 }
    }

    /// Gives back one slot of `holder`.
    public func release(_ holder: Holder) {
        slots.withLock { slots in
            slots[holder] = max(0, (slots[holder] ?? 0) - 1)
        }
    }

    /// Records how many slots `holder` holds now (a holder that keeps its own count).
    public func setHeld(_ count: Int, by holder: Holder) {
        slots.withLock { $0[holder] = max(0, count) }
    }

    /// Slots every holder but `holder` holds.
    public func held(byOthersThan holder: Holder) -> Int {
        slots.withLock { slots in slots.reduce(0) { $0 + ($1.key == holder ? 0 : $1.value) } }
    }

    /// Slots held in all.
    public var held: Int { slots.withLock { $0.values.reduce(0, +) } }
}
