import Engine
import Foundation
import Testing
import TestSupport
@testable import Controller

/// A `lambda` workload in service mode: always-warm environments that the
/// AWS CLI cannot tell from function mode.
@Suite("A lambda workload in service mode", .enabled(if: EngineAvailability.shouldRun && AWSTools.shouldRunCLI), .serialized)
struct LambdaServiceProcessTests {
    static let manifest = """
        version: 1
        workloads:
          echo:
            build: \(Repository.root.path)/images/echo-function
            contract: lambda
            mode: service
            memory: 128Mi
            replicas: {min: 2}
            triggers:
              - http: {path: /echo}
        """

    @Test("its environments are warm before any call, answer the AWS CLI, are never frozen, and queue calls beyond them")
    func alwaysWarm() async throws {
        try await TandemUp.withFolder(Self.manifest) { folder in
            let port = try freeLoopbackPort()
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(port)"])
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()
            func environments() async -> [ProcessList.Environment] {
                (try? await client.processList().workloads.first { $0.name == "echo" }?.environments) ?? []
            }
            try await eventually(timeout: .seconds(30)) {
                let envs = await environments()
                return envs.count == 2 && envs.allSatisfy { $0.phase == "idle" }
            }
            #expect(try await client.processList().workloads.first { $0.name == "echo" }?.mode == "service")

            let outfile = folder.appendingPathComponent("out.json").path
            let invoked = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: #"{"hello":"service"}"#,
                                                          outfile: outfile)
            #expect(invoked.status == 0, "\(invoked.stderr)")
            #expect(invoked.stdout.contains("\"StatusCode\": 200"), "\(invoked.stdout)")
            let answer = try String(contentsOfFile: outfile, encoding: .utf8)
            #expect(answer.contains(#""hello""#) && answer.contains(#""service""#), "\(answer)")

            // Function mode freezes an idle environment after 50 ms; these stay thawed.
            try await Task.sleep(for: .seconds(1))
            let phases = await environments().map(\.phase)
            #expect(phases == ["idle", "idle"], "never frozen")

            // Six calls at once on two environments: the extra four wait, none is throttled.
            let gateway = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(port)"))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<6 {
                    group.addTask {
                        try await gateway.execute(HTTPRequest(
                            method: "POST", path: "/2015-03-31/functions/echo/invocations",
                            body: .bytes(Array(#"{"sleep_ms":300,"n":\#(n)}"#.utf8)), timeout: .seconds(20))).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 6), "\(statuses)")
            #expect(await environments().count == 2, "no environment beyond the replicas")

            // The http route gets an API Gateway event.
            let routed = try await gateway.execute(HTTPRequest(method: "GET", path: "/echo?x=1", timeout: .seconds(10)))
            #expect(routed.status == 200)
            #expect(String(decoding: routed.body, as: UTF8.self).contains("rawQueryString"))

            try await client.down()
            #expect(await up.waitForExit(upTo: .seconds(20)) == 0, "\(up.output)")
        }
    }
}
