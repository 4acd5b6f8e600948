import ArgumentParser
import Controller
import Foundation

/// `tandem run NAME`: runs a task through the running controller, streams
/// its output and exits with its exit code.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a task (mode: task) to completion, print its output, and exit with its exit code.",
        discussion: """
            The payload goes to the task's standard input: JSON given inline, or any file with @PATH.
            With --detach the run's id is printed and the run goes on; `tandem ps` shows its result.
            """
    )

    @Argument(help: "The task's name.")
    var name: String

    @Option(help: ArgumentHelp("The task's standard input: JSON, or @FILE.", valueName: "json|@file"))
    var payload: String?

    @Flag(name: .shortAndLong, help: "Print the run's id and return without waiting.")
    var detach = false

    func run() async throws {
        var bytes: [UInt8] = []
        if let payload {
            if payload.hasPrefix("@") {
                let path = String(payload.dropFirst())
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("--payload: cannot read \(path)")
                }
                bytes = Array(data)
            } else {
                bytes = try InvokeCommand.payloadBytes(payload)
            }
        }
        let client = ControlClient(socketPath: StateDirectory().controlSocket)
        let result: ProcessList.TaskRun
        do {
            let id = try await client.startRun(name, payload: bytes)
            if detach {
                print(id)
                return
            }
            FileHandle.standardError.write(Data("run \(id)\n".utf8))
            try await client.followRun(id) { FileHandle.standardOutput.write(Data($0)) }
            result = try await client.runResult(id)
        } catch let error as ControllerError {
            throw CLIError(error.description)
        }
        var summary = "\(name): \(result.reason) after \(String(format: "%.2f", result.durationSeconds)) s"
        if result.attempts > 1 { summary += " (\(result.attempts) attempts)" }
        if let cpu = result.cpuSeconds { summary += ", CPU \(String(format: "%.2f", cpu)) s" }
        if let memory = result.maxMemoryMB { summary += ", peak memory \(memory) MiB" }
        summary += String(format: ", Fargate cost $%.6f", result.costUSD)
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        if let code = result.exitCode, result.outcome == "succeeded" || result.outcome == "failed" {
            throw ExitCode(Int32(truncatingIfNeeded: code))
        }
        if result.outcome != "succeeded" { throw ExitCode.failure }
    }
}
