import Logging
import ServiceLifecycle
import TestSupport
@testable import Gateway

/// A gateway on 127.0.0.1 with a free port, for the length of `body`.
func withLiveGateway(
    _ invoker: any FunctionInvoker, routes: [GatewayRoute] = [], upstreams: UpstreamRegistry = UpstreamRegistry(),
    configuration: GatewayConfiguration = GatewayConfiguration(port: 0),
    _ body: (GatewayServer, Int) async throws -> Void
) async throws {
    let server = try GatewayServer(invoker: invoker, routes: routes, upstreams: upstreams, configuration: configuration)
    // In a ServiceGroup, as the controller runs it, and stopped the same way: graceful shutdown.
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    var failure: (any Error)?
    do {
        let port = try await server.listeningPort()
        try await body(server, port)
    } catch {
        failure = error
    }
    await group.triggerGracefulShutdown()
    try await running.value
    if let failure { throw failure }
}
