import ServiceLifecycle

/// Runs a runner's own work as a service of the controller's group. The
/// group's graceful shutdown drains the runner (a no-op when the stop
/// sequence did already) and waits for its work to end: replicas and tasks get
/// SIGTERM and their stop timeout, not a cancellation that removes them at
/// once. The stop sequence's force stop, and the group's own bound, end it
/// when the drain takes too long.
struct RunnerService: Service {
    let runner: any WorkloadRunner
    let stopTimeout: Duration

    func run() async throws {
        await withGracefulShutdownHandler {
            await runner.run()
        } onGracefulShutdown: {
            runner.drain(within: stopTimeout)
        }
        // A runner's work ends on its own once a drain is over, before the
        // group reaches this service: a service that ends out of turn fails the group.
        try? await gracefulShutdown()
    }
}
