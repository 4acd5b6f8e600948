import Manifest

/// Triggers this version declares but does not run yet: `tandem up` says so
/// for each, rather than ignoring them without a word.
enum TriggerSupport {
    /// One line per trigger of `workload` that nothing will fire.
    static func notRun(by workload: Workload) -> [String] {
        workload.triggers.compactMap { trigger in
            let what: String
            switch trigger {
            case .http:
                return nil
            case .schedule(let schedule):
                what = "schedule \(schedule.description)"
            case .watch(let path, let pattern):
                what = "watch of \(path) (\(pattern))"
            case .queue(let name, _):
                what = "queue trigger on \(name)"
            }
            let instead = workload.mode == .task ? "`tandem run \(workload.name)`" : "`tandem invoke \(workload.name)`"
            return "\(workload.name): its \(what) is not run by this version yet; nothing fires it (start it with \(instead))"
        }
    }
}
