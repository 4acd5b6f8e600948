/// The supervision of one service, as a pure state machine: the desired
/// replicas of the spec's revision against the replicas there are. Every
/// event (a replica started, answered a probe, ended; time passed) returns
/// the actions a backend executes. No I/O, no clock: time is passed in.
///
/// - Each slot `0..<spec.replicas` gets one replica of the spec's revision.
///   A replica of an older revision keeps serving until its slot's new
///   replica is ready, then is stopped — except for a stateful service (its
///   slot's volume takes one replica at a time): there the old one is stopped
///   first, and a slot starts only once its previous replica is gone.
/// - A replica takes traffic once a probe succeeds (its port accepts, or its
///   health check passes); one that is not ready within the policy's
///   deadline, or that fails `retries` probes in a row once ready, is
///   stopped and replaced.
/// - A replica that ends on its own is replaced after ``CrashBackoff``.
public struct ServiceState: Sendable {
    public typealias Instant = ContinuousClock.Instant

    struct Replica: Sendable, Equatable {
        let id: ReplicaID
        var revision: String
        /// The port of its revision: an older replica keeps serving on its own.
        var port: Int
        var phase: ReplicaPhase
        var container: String?
        var address: String?
        /// When its start was asked for (or it was adopted).
        var requestedAt: Instant?
        /// When it started (or was adopted).
        var startedAt: Instant?
        var readySince: Instant?
        var failures = 0
        /// What its last failed probe said, until one succeeds.
        var problem: String?
        var probing = false
        var nextProbe: Instant?
        var adopted = false
        /// Why it is being stopped, when it failed (recorded as an end of its slot).
        var failure: ReplicaExit?
    }

    public private(set) var spec: ServiceSpec?
    public let name: String
    var replicas: [ReplicaID: Replica] = [:]
    var slots: [Int: SlotHistory] = [:]
    /// The serial of each slot's next replica.
    var nextSerial: [Int: Int] = [:]
    let backoff: CrashBackoff

    public init(name: String, backoff: CrashBackoff = CrashBackoff()) {
        self.name = name
        self.backoff = backoff
    }

    // MARK: events

    /// Adopts replicas an earlier controller left running, before the first
    /// ``apply(_:now:)``: running ones of a desired slot are kept (probed once
    /// before they take traffic; an older revision serves until replaced), the
    /// rest are removed.
    public mutating func adopt(_ found: [FoundReplica], spec: ServiceSpec, now: Instant) -> [ServiceAction] {
        var actions: [ServiceAction] = []
        var taken: Set<String> = []  // "slot/revision"
        for replica in found.sorted(by: { ($0.slot, -$0.serial) < ($1.slot, -$1.serial) }) {
            nextSerial[replica.slot] = max(nextSerial[replica.slot] ?? 0, replica.serial + 1)
            let key = "\(replica.slot)/\(replica.revision == spec.revision)"
            guard replica.running, replica.slot < spec.replicas, !taken.contains(key) else {
                actions.append(.remove(container: replica.container))
                continue
            }
            taken.insert(key)
            let id = ReplicaID(service: name, slot: replica.slot, serial: replica.serial)
            replicas[id] = Replica(id: id, revision: replica.revision, port: replica.port ?? spec.port, phase: .warming,
                                   container: replica.container,
                                   address: replica.address, requestedAt: now, startedAt: now, nextProbe: now,
                                   adopted: true)
        }
        self.spec = spec
        return actions + tick(now: now)
    }

    /// Sets (or changes) the desired state.
    public mutating func apply(_ spec: ServiceSpec, now: Instant) -> [ServiceAction] {
        self.spec = spec
        return reconcile(now: now)
    }

    /// The service is no longer wanted: every replica is stopped.
    public mutating func remove(now: Instant) -> [ServiceAction] {
        spec = nil
        return reconcile(now: now)
    }

    /// The replica's container runs, at `address`.
    public mutating func started(_ id: ReplicaID, container: String, address: String?, now: Instant) -> [ServiceAction] {
        guard var replica = replicas[id] else {
            return [.remove(container: container)]
        }
        replica.container = container
        replica.address = address
        replica.startedAt = now
        if replica.phase == .stopping {
            replicas[id] = replica
            return [.stop(id, container: container, grace: .zero)]
        }
        replica.phase = .warming
        replica.nextProbe = now
        replicas[id] = replica
        return tick(now: now)
    }

    /// The replica's container could not be created or started.
    public mutating func startFailed(_ id: ReplicaID, exit: ReplicaExit, now: Instant) -> [ServiceAction] {
        guard let replica = replicas.removeValue(forKey: id) else { return [] }
        if replica.phase == .stopping { return reconcile(now: now) }
        return ended(replica, exit, now: now) + reconcile(now: now)
    }

    /// The machine-wide limit had no room: the slot tries again shortly,
    /// which is not counted as an end.
    public mutating func startRefused(_ id: ReplicaID, retryIn: Duration, now: Instant) -> [ServiceAction] {
        guard replicas.removeValue(forKey: id) != nil else { return [] }
        slots[id.slot, default: SlotHistory()].retryAt = now + retryIn
        return reconcile(now: now)
    }

    /// One probe's outcome.
    public mutating func probed(_ id: ReplicaID, healthy: Bool, message: String, now: Instant) -> [ServiceAction] {
        guard var replica = replicas[id] else { return [] }
        replica.probing = false
        replica.problem = healthy ? nil : message
        let policy = spec?.health ?? HealthPolicy()
        var actions: [ServiceAction] = []
        switch (replica.phase, healthy) {
        case (.warming, true):
            replica.phase = .ready
            replica.readySince = now
            replica.failures = 0
            replica.nextProbe = policy.interval.map { now + $0 }
            let after = (replica.requestedAt ?? replica.startedAt).map { now - $0 } ?? .zero
            replicas[id] = replica
            actions += [.publish, .note(.ready(id, adopted: replica.adopted, after: after))]
            return actions + reconcile(now: now)
        case (.warming, false):
            if let startedAt = replica.startedAt, now - startedAt >= policy.readinessDeadline {
                replicas[id] = replica
                return fail(id, ReplicaExit(exitCode: nil, reason: "not ready within \(policy.readinessDeadline): \(message)"),
                            now: now)
            }
            replica.nextProbe = now + policy.warmupInterval
        case (.ready, true):
            replica.failures = 0
            replica.nextProbe = policy.interval.map { now + $0 }
        case (.ready, false):
            replica.failures += 1
            if replica.failures >= policy.retries {
                replicas[id] = replica
                let reason = "health check failed \(replica.failures) times in a row: \(message)"
                return [.note(.unhealthy(id, reason: reason))]
                    + fail(id, ReplicaExit(exitCode: nil, reason: reason), now: now)
            }
            replica.nextProbe = policy.interval.map { now + $0 }
        case (.starting, _), (.stopping, _):
            break
        }
        replicas[id] = replica
        return actions + tick(now: now)
    }

    /// The replica's container ended. Expected when it was being stopped;
    /// otherwise an end its slot counts.
    public mutating func exited(_ id: ReplicaID, exit: ReplicaExit, now: Instant) -> [ServiceAction] {
        guard let replica = replicas[id] else { return [] }
        if replica.phase == .stopping { return [] }  // ``stopped(_:now:)`` follows
        replicas[id] = nil
        var actions: [ServiceAction] = replica.container.map { [.remove(container: $0)] } ?? []
        if replica.phase == .ready { actions.append(.publish) }
        return actions + ended(replica, exit, now: now) + reconcile(now: now)
    }

    /// The replica's container is stopped and removed.
    public mutating func stopped(_ id: ReplicaID, now: Instant) -> [ServiceAction] {
        guard replicas.removeValue(forKey: id) != nil else { return [] }
        return reconcile(now: now)
    }

    /// Time passed: probes that are due, slots whose back-off is over.
    public mutating func tick(now: Instant) -> [ServiceAction] {
        var actions: [ServiceAction] = []
        for id in replicas.keys.sorted() {
            guard var replica = replicas[id], !replica.probing, let container = replica.container,
                  replica.phase == .warming || replica.phase == .ready,
                  let due = replica.nextProbe, due <= now
            else { continue }
            replica.probing = true
            replicas[id] = replica
            actions.append(.probe(id, container: container, address: replica.address, port: replica.port))
        }
        return actions + reconcile(now: now)
    }

    /// When ``tick(now:)`` has something to do next, if ever.
    public var nextWakeUp: Instant? {
        var next: Instant?
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            next = next.map { min($0, instant) } ?? instant
        }
        for replica in replicas.values where !replica.probing && (replica.phase == .warming || replica.phase == .ready) {
            consider(replica.nextProbe)
        }
        if let spec {
            for slot in 0..<spec.replicas where current(in: slot).isEmpty { consider(slots[slot]?.retryAt) }
        }
        return next
    }

    // MARK: views

    /// The replicas in rotation: id, container, address and revision.
    public var readyReplicas: [ReadyReplica] {
        replicas.values.filter { $0.phase == .ready }.sorted { $0.id < $1.id }.compactMap { replica in
            guard let container = replica.container, let address = replica.address else { return nil }
            return ReadyReplica(id: replica.id, container: container, address: address, port: replica.port,
                                revision: replica.revision)
        }
    }

    /// No replica is left (after ``remove(now:)``).
    public var isEmpty: Bool { replicas.isEmpty }

    /// What `tandem ps` shows.
    public func view(now: Instant) -> ServiceView {
        let histories = slots.values
        let crashLooping = slots.contains { slot, history in
            history.consecutive > 1 && (history.retryAt.map { $0 > now } ?? false) && current(in: slot).isEmpty
        }
        let retry = slots.values.compactMap(\.retryAt).filter { $0 > now }.min().map { $0 - now }
        return ServiceView(
            name: name, revision: spec?.revision, desired: spec?.replicas ?? 0,
            ready: replicas.values.filter { $0.phase == .ready && $0.revision == spec?.revision }.count,
            restarts: histories.reduce(0) { $0 + $1.restarts },
            lastExit: slots.sorted { $0.key < $1.key }.compactMap(\.value.lastExit).last,
            crashLoopRetryIn: crashLooping ? retry : nil,
            replicas: replicas.values.sorted { $0.id < $1.id }.map {
                ServiceView.Replica(id: $0.id, phase: $0.phase, revision: $0.revision, container: $0.container,
                                    address: $0.address, failures: $0.failures, problem: $0.problem)
            })
    }

    // MARK: the reconcile

    /// The replicas of `slot` that count toward the desired state.
    private func current(in slot: Int) -> [Replica] {
        replicas.values.filter { $0.id.slot == slot && $0.revision == spec?.revision && $0.phase != .stopping }
    }

    private mutating func reconcile(now: Instant) -> [ServiceAction] {
        var actions: [ServiceAction] = []
        let desired = spec?.replicas ?? 0
        let exclusive = spec?.volumePath != nil
        for slot in 0..<desired {
            let current = current(in: slot).sorted { rank($0) < rank($1) }
            if current.isEmpty {
                if let retryAt = slots[slot]?.retryAt, retryAt > now { continue }
                if exclusive {
                    // The slot's volume takes one replica at a time: an older
                    // revision's goes first, and one being stopped must be gone.
                    let others = replicas.values.filter { $0.id.slot == slot }
                    if !others.isEmpty {
                        for old in others.sorted(by: { $0.id < $1.id }) { actions += stop(old.id) }
                        continue
                    }
                }
                let id = ReplicaID(service: name, slot: slot, serial: nextSerial[slot] ?? 0)
                nextSerial[slot] = id.serial + 1
                replicas[id] = Replica(id: id, revision: spec!.revision, port: spec!.port, phase: .starting, requestedAt: now)
                actions.append(.start(id))
                continue
            }
            for extra in current.dropFirst() { actions += stop(extra.id) }
            if current[0].phase == .ready {
                // The new revision serves this slot: older ones go.
                for old in replicas.values where old.id.slot == slot && old.revision != spec?.revision && old.phase != .stopping {
                    actions += stop(old.id)
                }
            }
        }
        for replica in replicas.values.sorted(by: { $0.id < $1.id }) where replica.id.slot >= desired && replica.phase != .stopping {
            actions += stop(replica.id)
        }
        return actions
    }

    /// Ready first, then warming, then starting; the newest of a phase first.
    private func rank(_ replica: Replica) -> (Int, Int) {
        let phase = switch replica.phase {
        case .ready: 0
        case .warming: 1
        case .starting: 2
        case .stopping: 3
        }
        return (phase, -replica.id.serial)
    }

    private mutating func stop(_ id: ReplicaID) -> [ServiceAction] {
        guard var replica = replicas[id], replica.phase != .stopping else { return [] }
        let wasReady = replica.phase == .ready
        replica.phase = .stopping
        replicas[id] = replica
        var actions: [ServiceAction] = wasReady ? [.publish] : []
        if let container = replica.container {
            // A failed replica is not waited for; a healthy one gets the spec's grace.
            let grace = replica.failure == nil ? (spec?.stopTimeout ?? .seconds(10)) : .seconds(1)
            actions.append(.stop(id, container: container, grace: grace))
        }
        // Still starting: ``started(_:container:address:now:)`` stops it.
        return actions
    }

    /// Stops a replica that failed, counting it as an end of its slot.
    private mutating func fail(_ id: ReplicaID, _ exit: ReplicaExit, now: Instant) -> [ServiceAction] {
        guard var replica = replicas[id] else { return [] }
        replica.failure = exit
        replicas[id] = replica
        return stop(id) + ended(replica, exit, now: now) + reconcile(now: now)
    }

    /// Records an end in the replica's slot and sets when it may start again.
    private mutating func ended(_ replica: Replica, _ exit: ReplicaExit, now: Instant) -> [ServiceAction] {
        var history = slots[replica.id.slot] ?? SlotHistory()
        if let since = replica.readySince, now - since >= backoff.resetAfter { history.consecutive = 0 }
        history.consecutive += 1
        history.restarts += 1
        history.lastExit = exit
        let delay = backoff.delay(afterEnd: history.consecutive)
        history.retryAt = now + delay
        slots[replica.id.slot] = history
        return [.note(.ended(replica.id, exit, restarts: history.restarts, retryIn: delay))]
    }
}

/// A replica in rotation.
public struct ReadyReplica: Sendable, Equatable {
    public var id: ReplicaID
    public var container: String
    public var address: String
    public var port: Int
    public var revision: String
}

/// One service as `tandem ps` shows it.
public struct ServiceView: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        public var id: ReplicaID
        public var phase: ReplicaPhase
        public var revision: String
        public var container: String?
        public var address: String?
        /// Failed probes in a row.
        public var failures: Int
        /// What its last failed probe said (`GET /healthz answered 404`), until one succeeds.
        public var problem: String?
    }

    public var name: String
    public var revision: String?
    public var desired: Int
    /// Ready replicas of the current revision.
    public var ready: Int
    public var restarts: Int
    public var lastExit: ReplicaExit?
    /// Set while a slot waits out its back-off after ending more than once in a row.
    public var crashLoopRetryIn: Duration?
    public var replicas: [Replica]
}
