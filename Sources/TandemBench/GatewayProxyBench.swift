import ArgumentParser
import FunctionMode
import Gateway
import NIOCore

/// `tandem-bench gateway-proxy`: a gateway whose every path (`/{proxy+}`)
/// goes to one service with the given replicas, served until interrupted —
/// the target of a load generator (wrk) beside a direct hit on the replica and
/// a peer proxy (nginx) in the same run.
struct GatewayProxyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-proxy",
        abstract: "Serve a gateway that proxies every path to the given replicas, until interrupted."
    )

    @Option(help: "A replica as HOST:PORT (repeat for more).")
    var upstream: [String]

    @Option(help: "The gateway's port on 127.0.0.1.")
    var port = 8090

    func run() async throws {
        let registry = UpstreamRegistry()
        let endpoints = try upstream.enumerated().map { index, address in
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                throw BenchFailure("expected HOST:PORT, found \(address)")
            }
            return UpstreamEndpoint(id: "replica-\(index)", host: String(address[..<colon]), port: port, group: "bench")
        }
        registry.update("bench", UpstreamSet(endpoints: endpoints))
        let server = try GatewayServer(invoker: NoFunctions(), routes: [GatewayRoute(path: "/{proxy+}", target: .service("bench"))],
                                       upstreams: registry, configuration: GatewayConfiguration(port: port))
        print("gateway-proxy listening on 127.0.0.1:\(port)")
        try await server.run()
    }
}

/// The bench gateway serves no function.
private struct NoFunctions: FunctionInvoker {
    func functionExists(_ name: String) -> Bool { false }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult {
        .rejected(name, .unknownFunction, arrivedAt: .now)
    }

    func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID {
        throw BenchFailure("the bench gateway queues no events")
    }
}
