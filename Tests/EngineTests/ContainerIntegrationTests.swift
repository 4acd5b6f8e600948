import Engine
import Foundation
import Testing

@Suite("Containers against the engine", .enabled(if: EngineTestSupport.shouldRun))
struct ContainerIntegrationTests {
    @Test("create, start, wait, logs split by stream, inspect, list by label, remove")
    func lifecycle() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let unique = UUID().uuidString
            let id = try await tracker.create(EngineTestSupport.spec(["sh", "-c", "echo out; echo err >&2; exit 3"]) {
                $0.labels?["tandem.case"] = unique
            })
            #expect(try await client.startContainer(id))
            let wait = try await client.waitContainer(id)
            #expect(wait.statusCode == 3)
            let output = try await client.containerOutput(id)
            #expect(output.stdoutText == "out\n")
            #expect(output.stderrText == "err\n")
            let inspect = try await client.inspectContainer(id)
            #expect(inspect.state.status == "exited")
            #expect(inspect.state.exitCode == 3)
            #expect(inspect.state.running == false)
            #expect(inspect.config?.labels?["tandem.case"] == unique)
            let listed = try await client.listContainers(labels: ["tandem.case=\(unique)"])
            #expect(listed.map(\.id) == [id])
            try await client.removeContainer(id)
            await #expect {
                _ = try await client.inspectContainer(id)
            } throws: { ($0 as? EngineError)?.code == .notFound }
        }
    }
}
