import ArgumentParser
import Controller
import Foundation

/// `tandem invoke NAME`: invokes a function through the running controller.
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a function and print its answer and its REPORT line.",
        discussion: "The payload is JSON, given inline or read from a file with @PATH (default {})."
    )

    @Argument(help: "The function's name.")
    var name: String

    @Option(help: ArgumentHelp("The event: JSON, or @FILE to read it from a file.", valueName: "json|@file"))
    var payload = "{}"

    @Flag(name: .customLong("async"), help: "Queue the event (Lambda's Event invocation) and print its request id.")
    var asynchronous = false

    func run() async throws {
        let bytes = try Self.payloadBytes(payload)
        if asynchronous {
            do {
                let id = try await ControlClient(socketPath: StateDirectory().controlSocket).enqueue(name, payload: bytes)
                print("queued \(id)")
            } catch let error as ControllerError {
                throw CLIError(error.description)
            }
            return
        }
        let result: ControlClient.Invocation
        do {
            result = try await ControlClient(socketPath: StateDirectory().controlSocket).invoke(name, payload: bytes)
        } catch let error as ControllerError {
            throw CLIError(error.description)
        }
        FileHandle.standardOutput.write(Data(result.body))
        if result.body.last != UInt8(ascii: "\n") { print("") }
        if let report = result.log?.split(separator: "\n").last(where: { $0.hasPrefix("REPORT ") }) {
            FileHandle.standardError.write(Data((report.replacingOccurrences(of: "\t", with: "  ") + "\n").utf8))
        }
        if let error = result.functionError {
            FileHandle.standardError.write(Data("function error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func payloadBytes(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8]
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--payload: cannot read \(path)")
            }
            bytes = Array(data)
        } else {
            bytes = Array(text.utf8)
        }
        if bytes.isEmpty { bytes = Array("{}".utf8) }
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw ValidationError("--payload: not JSON (\(error.localizedDescription))")
        }
        return bytes
    }
}

/// `tandem logs NAME [-f]`: a workload's log, kept across controller restarts.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a workload's log (START, the function's output, END, REPORT per invocation).")

    @Argument(help: "The workload's name.")
    var name: String

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written.")
    var follow = false

    @Option(help: "Print only the last N lines.")
    var tail: Int?

    func run() async throws {
        let url = StateDirectory().logFile(name)
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw CLIError("no log for \(name) yet (\(url.path)); it appears once the workload has run")
        }
        defer { try? handle.close() }
        let existing = handle.readDataToEndOfFile()
        var text = String(decoding: existing, as: UTF8.self)
        if let tail {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let kept = lines.last == "" ? lines.dropLast() : lines[...]
            text = kept.suffix(max(0, tail)).joined(separator: "\n") + (kept.isEmpty ? "" : "\n")
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        guard follow else { return }
        while !Task.isCancelled {
            let more = handle.readDataToEndOfFile()
            if more.isEmpty {
                try await Task.sleep(for: .milliseconds(200))
            } else {
                FileHandle.standardOutput.write(more)
            }
        }
    }
}

/// `tandem dlq list|redrive`: events that failed every attempt.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List or redrive dead-lettered events.",
        subcommands: [List.self, Redrive.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the dead letters of every queue.")

        func run() async throws {
            let letters: [DeadLetter]
            do {
                letters = try await ControlClient(socketPath: StateDirectory().controlSocket).deadLetters()
            } catch let error as ControllerError {
                throw CLIError(error.description)
            }
            if letters.isEmpty {
                print("no dead letters")
                return
            }
            for letter in letters {
                print("\(letter.queue)  \(letter.requestID)  attempts \(letter.attempts)  \(letter.reason)")
                print("    payload: \(letter.payload.prefix(200))")
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "redrive", abstract: "Put a queue's dead letters back on the queue.")

        @Argument(help: "The queue (as `tandem dlq list` shows it), e.g. lambda-async:echo.")
        var queue: String

        func run() async throws {
            do {
                let count = try await ControlClient(socketPath: StateDirectory().controlSocket).redrive(queue: queue)
                print("redrove \(count) event(s) on \(queue)")
            } catch let error as ControllerError {
                throw CLIError(error.description)
            }
        }
    }
}
