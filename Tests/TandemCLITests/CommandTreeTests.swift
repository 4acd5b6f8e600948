import ArgumentParser
import Testing

@testable import TandemCLI

@Suite("The command tree")
struct CommandTreeTests {
    static let commands: [[String]] = [
        [], ["build"], ["demo"], ["validate"], ["plan"], ["explain"], ["up"], ["ps"], ["invoke"], ["logs"],
        ["dlq"], ["dlq", "list"], ["dlq", "redrive"], ["down"],
    ]

    @Test("every command has help that names it", arguments: commands)
    func help(path: [String]) throws {
        let text = Tandem.helpMessage(for: try Self.type(path))
        #expect(text.contains("USAGE: tandem\(path.isEmpty ? "" : " " + path.joined(separator: " "))"))
        #expect(!text.contains("TODO"))
    }

    @Test("up takes --gateway HOST:PORT and refuses anything else with the expected form")
    func upGateway() throws {
        let up = try #require(try Tandem.parseAsRoot(["up", "--gateway", "0.0.0.0:9000", "--insecure-public"]) as? UpCommand)
        #expect(try UpCommand.hostAndPort(up.gateway) == ("0.0.0.0", 9000))
        for bad in ["9000", ":9000", "host:", "host:99999", "host:x"] {
            #expect(throws: (any Error).self, "--gateway \(bad)") { try Tandem.parseAsRoot(["up", "--gateway", bad]) }
        }
        #expect(throws: (any Error).self) { try Tandem.parseAsRoot(["up", "--reap-after", "5"]) }
        #expect(throws: (any Error).self) { try Tandem.parseAsRoot(["up", "--log-level", "loud"]) }
    }

    @Test("invoke takes JSON inline or @file, and refuses what is not JSON")
    func invokePayload() throws {
        #expect(try InvokeCommand.payloadBytes("") == Array("{}".utf8))
        #expect(try InvokeCommand.payloadBytes(#"{"a":1}"#) == Array(#"{"a":1}"#.utf8))
        #expect(throws: (any Error).self) { try InvokeCommand.payloadBytes("{not json") }
        #expect(throws: (any Error).self) { try InvokeCommand.payloadBytes("@/no/such/file.json") }
        let invoke = try #require(try Tandem.parseAsRoot(["invoke", "echo", "--async"]) as? InvokeCommand)
        #expect(invoke.asynchronous)
        #expect(invoke.name == "echo")
    }

    @Test("build refuses --tag with several folders")
    func buildTag() {
        #expect(throws: (any Error).self) { try Tandem.parseAsRoot(["build", "a", "b", "--tag", "x:1"]) }
    }

    static func type(_ path: [String]) throws -> any ParsableCommand.Type {
        var current: any ParsableCommand.Type = Tandem.self
        for name in path {
            let next = current.configuration.subcommands.first { $0.configuration.commandName == name }
            current = try #require(next, "no subcommand \(name)")
        }
        return current
    }
}
