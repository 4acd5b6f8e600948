import ServiceLifecycle

/// Runs a runner's own work as a service of the controller's group.
struct RunnerService: Service {
    let runner: any WorkloadRunner

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await runner.run()
        }
        // A runner's work ends on its own once a drain is over, before the
        // group reaches this service: a service that ends out of turn fails the group.
        try? await gracefulShutdown()
    }
}
