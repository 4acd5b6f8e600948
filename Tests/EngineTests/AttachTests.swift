import Engine
import Foundation
import Testing
import TestSupport

/// `POST /containers/{id}/attach` with stdin, against the real engine.
@Suite("Attach with stdin", .enabled(if: EngineAvailability.shouldRun))
struct AttachTests {
    /// A spec whose stdin the attach can feed and close.
    static func stdinSpec(_ cmd: [String]) -> ContainerSpec {
        EngineTestSupport.spec(cmd) { spec in
            spec.openStdin = true
            spec.stdinOnce = true
            spec.attachStdin = true
            spec.attachStdout = true
            spec.attachStderr = true
        }
    }

    @Test("cat returns its input: input written before start")
    func catRoundTrip() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["cat"]))
            let result = try await client.runAttached(id, input: Array("hello, stdin\n".utf8))
            #expect(result.output.stdoutText == "hello, stdin\n")
            #expect(result.output.stderr.isEmpty)
            #expect(result.exitCode == 0)
            #expect(result.inputBytesWritten == 13)
        }
    }

    @Test("cat returns its input: input written after start")
    func inputAfterStart() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["cat"]))
            let attached = try await client.attach(id)
            try await client.startContainer(id)
            try await Task.sleep(for: .milliseconds(100))
            attached.write(Array("one ".utf8))
            attached.write(Array("two".utf8))
            attached.closeStdin()
            let output = try await attached.collect()
            #expect(output.stdoutText == "one two")
            let exit = try await client.waitContainer(id)
            #expect(exit.statusCode == 0)
        }
    }

    @Test("1 MB of binary input comes back byte for byte")
    func largeBinaryInput() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["cat"]))
            var generator = SystemRandomNumberGenerator()
            var input = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Every byte value, including NUL and the frame header's stream ids.
            input.replaceSubrange(0..<256, with: (0...255).map { UInt8($0) })
            let result = try await client.runAttached(id, input: input)
            #expect(result.output.stdout.count == input.count)
            #expect(result.output.stdout == input)
            #expect(result.exitCode == 0)
        }
    }

    @Test("stderr is kept apart from stdout and the exit code is seen")
    func stderrAndExitCode() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["sh", "-c", "cat; echo err >&2; exit 3"]))
            let result = try await client.runAttached(id, input: Array("payload".utf8))
            #expect(result.output.stdoutText == "payload")
            #expect(result.output.stderrText == "err\n")
            #expect(result.exitCode == 3)
        }
    }

    @Test("empty input: stdin is closed at once")
    func emptyInput() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["sh", "-c", "wc -c"]))
            let result = try await client.runAttached(id, input: [])
            #expect(result.output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            #expect(result.exitCode == 0)
        }
    }

    @Test("a process that ignores its input still ends the attach")
    func ignoredInput() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["sh", "-c", "echo done"]))
            let result = try await client.runAttached(id, input: [UInt8](repeating: 65, count: 4 << 20))
            #expect(result.output.stdoutText == "done\n")
            #expect(result.exitCode == 0)
        }
    }

    @Test("attaching to a missing container is notFound")
    func missing() async throws {
        let client = try await EngineTestSupport.requireEngine()
        await #expect {
            _ = try await client.attach("tandem-no-such-container-\(UUID().uuidString)")
        } throws: { error in
            (error as? EngineError)?.code == .notFound
        }
    }

    @Test("cancel ends the output of a container that keeps running")
    func cancelEndsOutput() async throws {
        let client = try await EngineTestSupport.requireEngine()
        try await EngineTestSupport.withContainers(client) { tracker in
            let id = try await tracker.create(Self.stdinSpec(["cat"]))
            let attached = try await client.attach(id)
            try await client.startContainer(id)
            attached.write(Array("x".utf8))
            var iterator = attached.output.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first?.text == "x")
            attached.cancel()
            await #expect(throws: (any Error).self) {
                while try await iterator.next() != nil {}
            }
        }
    }
}
