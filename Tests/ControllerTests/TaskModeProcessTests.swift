import Engine
import Foundation
import Store
import Testing
import TestSupport
@testable import Controller

/// Task mode as an operator meets it: the real `tandem up` and `tandem run`.
@Suite("Task mode through tandem up and tandem run", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct TaskModeProcessTests {
    static let manifest = """
        version: 1
        workloads:
          job:
            image: \(TestImages.busybox)
            contract: command
            mode: task
            memory: 64Mi
            retries: 1
            command: ["sh", "-c", "echo got: $(cat); echo working >&2; test \\"$(cat /tmp/x 2>/dev/null)\\" = ok || exit 3"]
          slow:
            image: \(TestImages.busybox)
            contract: command
            mode: task
            memory: 64Mi
            timeout: 1s
            stop_timeout: 1s
            command: ["sleep", "30"]
          ok:
            image: \(TestImages.busybox)
            contract: command
            mode: task
            memory: 64Mi
            concurrency: {reserved: 1}
            command: ["sh", "-c", "sleep 0.5; echo done $TANDEM_RUN_ID"]
        """

    /// Runs `tandem ARGUMENTS` in `folder` (on a thread of its own: the
    /// cooperative pool keeps serving); returns its exit status, stdout and stderr.
    static func tandem(_ arguments: [String], in folder: URL) async throws -> (status: Int32, stdout: String, stderr: String) {
        let executable = try TandemUp.executable()
        return try await onThread { try runTandem(executable, arguments, in: folder) }
    }

    private static func runTandem(_ executable: String, _ arguments: [String], in folder: URL) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        // stdout through a pipe, stderr to a file: neither can fill up and block the child.
        let out = Pipe()
        let errURL = folder.appendingPathComponent("stderr-\(UUID().uuidString.prefix(8))")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? FileManager.default.removeItem(at: errURL) }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        let stderr = (try? Data(contentsOf: errURL)) ?? Data()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("tandem run streams the output, re-runs a failure, exits with the task's code, and the ledger keeps the run")
    func runToCompletion() async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.busybox(engine: engine)
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())"])
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()

            let failed = try await Self.tandem(["run", "job", "--payload", #"{"n":1}"#], in: folder)
            #expect(failed.status == 3, "\(failed)")
            #expect(failed.stdout.components(separatedBy: #"got: {"n":1}"#).count - 1 == 2, "two attempts: \(failed.stdout)")
            #expect(failed.stdout.contains("working"))
            #expect(failed.stdout.contains("[tandem] attempt 1 exited with code 3"))
            #expect(failed.stderr.contains("exited with code 3") && failed.stderr.contains("(2 attempts)"), "\(failed.stderr)")
            #expect(failed.stderr.contains("Fargate cost $"))

            let done = try await Self.tandem(["run", "ok"], in: folder)
            #expect(done.status == 0, "\(done)")
            #expect(done.stdout.hasPrefix("done "))
            let runID = done.stdout.dropFirst("done ".count).trimmingCharacters(in: .whitespacesAndNewlines)

            let store = try Store.open(path: folder.appendingPathComponent(".tandem/tandem.sqlite").path)
            defer { try? store.close() }
            try await eventually(timeout: .seconds(5)) {
                ((try? await store.taskRuns(workload: "ok")) ?? []).contains { $0.runID == runID }
            }
            let row = try #require(try await store.taskRuns(workload: "ok").first)
            #expect(row.outcome == "succeeded" && row.exitCode == 0 && row.attempts == 1)
            #expect(row.durationMs >= 500 && row.durationMs < 10_000)
            #expect(row.billedSeconds == 60, "Fargate's one-minute minimum")
            #expect(row.vcpu == 0.25 && row.memoryMB == 64)
            #expect(row.costUSD > 0)
            let failedRow = try #require(try await store.taskRuns(workload: "job").first)
            #expect(failedRow.outcome == "failed" && failedRow.exitCode == 3 && failedRow.attempts == 2)

            let list = try await client.processList()
            let ok = try #require(list.workloads.first { $0.name == "ok" }?.task)
            #expect(ok.recent.last?.id == runID)

            let log = try String(contentsOf: folder.appendingPathComponent(".tandem/logs/job.log"), encoding: .utf8)
            #expect(log.contains(#"| got: {"n":1}"#), "\(log)")
        }
    }

    @Test("a run past its timeout is stopped; --detach returns the id at once; runs beyond reserved wait; unknown tasks are refused")
    func timeoutsDetachAndLimits() async throws {
        let engine = try await EngineAvailability.requireEngine()
        try await TestImages.shared.busybox(engine: engine)
        try await TandemUp.withFolder(Self.manifest) { folder in
            let up = try TandemUp.start(in: folder, arguments: ["--gateway", "127.0.0.1:\(try freeLoopbackPort())"])
            defer { up.kill() }
            let client = try await up.waitUntilAnswering()

            let started = ContinuousClock.now
            let slow = try await Self.tandem(["run", "slow"], in: folder)
            #expect(slow.status == 1, "\(slow)")
            #expect(slow.stderr.contains("timed out after"), "\(slow.stderr)")
            #expect(ContinuousClock.now - started < .seconds(10))

            let first = try await Self.tandem(["run", "ok", "--detach"], in: folder)
            let second = try await Self.tandem(["run", "ok", "--detach"], in: folder)
            #expect(first.status == 0 && second.status == 0)
            let listed = try await client.processList().workloads.first { $0.name == "ok" }?.task
            #expect(listed?.running == 1 && listed?.waiting == 1, "reserved: 1 holds the second back")
            let result = try await client.runResult(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(result.outcome == "succeeded")

            let unknown = try await Self.tandem(["run", "nope"], in: folder)
            #expect(unknown.status != 0)
            #expect(unknown.stderr.contains("no task named nope"), "\(unknown.stderr)")

            try await client.down()
            #expect(await up.waitForExit(upTo: .seconds(20)) == 0, "\(up.output)")
            let project = Controller.projectLabel(folder.standardizedFileURL.path)
            #expect(try await engine.listContainers(all: true, labels: ["tandem.project=\(project)"]).isEmpty)
        }
    }
}
