import ArgumentParser
import Engine
import Foundation

/// `tandem demo`: builds images/hello and runs it through the engine client,
/// showing each step of a container's life and what it cost.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build images/hello and run it once through the engine client, timing every step."
    )

    @Option(help: "The image folder to build and run.")
    var folder = "images/hello"

    @Option(help: "Who to greet.")
    var name = "tandem"

    func run() async throws {
        let engine = try EngineConnection.client()
        let clock = ContinuousClock()
        var steps: [(String, Duration)] = []
        func step<T>(_ label: String, _ body: () async throws -> T) async throws -> T {
            let start = clock.now
            let value = try await body()
            steps.append((label, clock.now - start))
            return value
        }

        let version = try await step("engine version") { try await engine.version() }
        print("engine: \(version.version) (API \(try await engine.apiVersion())) at \(engine.endpointDescription)")
        let image = ImageFolder(folder)
        let tag = image.defaultTag
        _ = try await step("build \(folder)") { try await image.build(with: engine, tag: tag) }

        var spec = ContainerSpec(image: tag, cmd: [name], labels: ["tandem.demo": "1"])
        var host = HostConfig()
        host.memory = 32 << 20
        host.memorySwap = 32 << 20
        host.readonlyRootfs = true
        host.capDrop = ["ALL"]
        host.securityOpt = ["no-new-privileges"]
        host.pidsLimit = 16
        host.networkMode = "none"
        spec.hostConfig = host
        spec.user = "65534:65534"

        let created = try await step("create") { try await engine.createContainer(spec) }
        do {
            _ = try await step("start") { try await engine.startContainer(created.id) }
            let exit = try await step("wait") { try await engine.waitContainer(created.id) }
            let output = try await step("logs") { try await engine.containerOutput(created.id, tty: false) }
            try await step("remove") { try await engine.removeContainer(created.id, force: true) }
            print(output.stdoutText, terminator: "")
            if !output.stderr.isEmpty { FileHandle.standardError.write(Data(output.stderr)) }
            print("exit status \(exit.statusCode)")
        } catch {
            try? await engine.removeContainer(created.id, force: true)
            throw error
        }
        print("")
        let width = steps.map(\.0.count).max() ?? 0
        for (label, duration) in steps {
            let ms = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000
            print("  \(label.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(format: "%8.1f ms", ms))")
        }
    }
}
