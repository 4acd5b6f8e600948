/// Picks the replica for a service's next request, as a pure state machine
/// (tested without sockets): a group by smooth weighted round robin (nginx's:
/// over any run of requests, each group's share follows its weight as closely
/// as whole requests allow, with no bursts), then in that group the endpoint
/// with the fewest requests outstanding, ties broken round robin so that equal
/// idle replicas take turns.
///
/// Only endpoints that can take a request now are considered: below the
/// per-replica limit and not excluded (one that just failed this request).
/// A group whose every endpoint is busy sits the round out, its weight going
/// to the others.
struct UpstreamBalancer: Sendable {
    /// Smooth weighted round robin's running weight per group.
    private var current: [String: Double] = [:]
    /// Where the next tie-break starts, per group.
    private var cursors: [String: Int] = [:]

    /// Why no endpoint was picked.
    enum Shortage: Error, Equatable {
        /// No endpoint of a group with weight could ever take it: answer 503 at once.
        case noReplica
        /// Every candidate is at its limit: wait for one to free.
        case allBusy
    }

    /// The endpoint for the next request, or why there is none.
    /// - Parameter outstanding: requests in flight on an endpoint (by id).
    mutating func pick(from set: UpstreamSet, outstanding: (String) -> Int, excluding: Set<String> = [])
        -> Result<UpstreamEndpoint, Shortage>
    {
        var candidates: [UpstreamEndpoint] = []
        var groups: [String] = []
        var anyWeighted = false
        for endpoint in set.endpoints where set.weight(of: endpoint.group) > 0 && !excluding.contains(endpoint.id) {
            anyWeighted = true
            if let limit = set.perReplicaLimit, outstanding(endpoint.id) >= limit { continue }
            candidates.append(endpoint)
            if !groups.contains(endpoint.group) { groups.append(endpoint.group) }
        }
        guard anyWeighted else { return .failure(.noReplica) }
        guard let group = groups.count == 1 ? groups[0] : nextGroup(among: groups, set: set) else {
            return .failure(.allBusy)
        }
        let members = groups.count == 1 ? candidates : candidates.filter { $0.group == group }
        return .success(leastOutstanding(members, group: group, outstanding: outstanding))
    }

    /// Forgets the state of groups no longer in `set`.
    mutating func prune(to set: UpstreamSet) {
        let groups = Set(set.endpoints.map(\.group))
        current = current.filter { groups.contains($0.key) }
        cursors = cursors.filter { groups.contains($0.key) }
    }

    private mutating func nextGroup(among groups: [String], set: UpstreamSet) -> String? {
        var total = 0.0
        var best: (group: String, weight: Double)?
        // Sorted, so that equal running weights resolve the same way every time.
        for group in groups.sorted() {
            let weight = set.weight(of: group)
            total += weight
            let running = current[group, default: 0] + weight
            current[group] = running
            if best == nil || running > best!.weight { best = (group, running) }
        }
        guard let best else { return nil }
        current[best.group] = best.weight - total
        return best.group
    }

    private mutating func leastOutstanding(_ members: [UpstreamEndpoint], group: String,
                                           outstanding: (String) -> Int) -> UpstreamEndpoint {
        let start = cursors[group, default: 0] % members.count
        var chosen = start
        var fewest = Int.max
        for step in 0..<members.count {
            let index = (start + step) % members.count
            let count = outstanding(members[index].id)
            if count < fewest {
                fewest = count
                chosen = index
            }
        }
        cursors[group] = chosen + 1
        return members[chosen]
    }
}
