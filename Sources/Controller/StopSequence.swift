import Synchronization
import UnixSignals

/// Requests to stop the controller: `tandem down` (through the control
/// socket), SIGTERM and SIGINT all count.
final class StopRequests: Sendable {
    private let count = Mutex(0)
    private let volumes = Mutex(false)

    func request() { count.withLock { $0 += 1 } }

    /// `tandem down --volumes`: stateful services' volumes go too.
    func requestVolumeRemoval() { volumes.withLock { $0 = true } }

    var removesVolumes: Bool { volumes.withLock { $0 } }

    var received: Int { count.withLock { $0 } }

    /// Returns once `n` requests have arrived (true), or after `timeout`
    /// (false), or when the task is cancelled (false).
    func wait(for n: Int, upTo timeout: Duration? = nil) async -> Bool {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while received < n {
            if Task.isCancelled { return false }
            if let deadline, ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return true
    }
}

/// How a controller stops, whatever its workloads do:
///
/// 1. The first request (`tandem down`, SIGTERM, SIGINT) drains: the runners
///    refuse new work, the gateway and the control socket stop taking
///    connections, and what was accepted has up to the stop timeout to finish.
/// 2. The stop timeout, or a second request, ends the rest: whatever still
///    runs is failed (`Runtime.ShuttingDown`) and its containers removed.
///
/// The service group also has a hard bound (the stop timeout plus a grace),
/// after which it cancels every service.
struct StopSequence: Sendable {
    let requests: StopRequests
    let stopTimeout: Duration
    /// Begins the drain (runners refuse new work; accepted work goes on).
    let drain: @Sendable () -> Void
    /// Ends what is still running, at once.
    let forceStop: @Sendable () async -> Void
    /// Begins the service group's graceful shutdown.
    let shutDownGroup: @Sendable () async -> Void

    /// Runs `body` (the service group) and carries out stop requests until it ends.
    func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let requests = self.requests
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await body()
                return true
            }
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { requests.request() }
                return false
            }
            tasks.addTask {
                guard await requests.wait(for: 1) else { return false }
                drain()
                await shutDownGroup()
                _ = await requests.wait(for: 2, upTo: stopTimeout)
                if !Task.isCancelled { await forceStop() }
                return false
            }
            while let bodyEnded = try await tasks.next() {
                if bodyEnded {
                    tasks.cancelAll()
                    return
                }
            }
        }
    }
}
