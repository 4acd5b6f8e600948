import Engine
import Foundation
import NIOCore
import Testing
import TestSupport
@testable import FunctionMode

/// A shutdown caught in the middle of a cold start leaves nothing behind.
@Suite("Function host shutdown against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct FunctionHostShutdownTests {
    /// When the shutdown comes, counted from the invocation.
    enum Moment: String, CaseIterable, CustomTestStringConvertible {
        /// Before the host has even asked for a container.
        case atOnce
        /// As soon as the engine lists the environment's container (created, maybe not started).
        case containerCreated
        /// Once the container runs (its runtime may be asking for work).
        case containerRunning

        var testDescription: String { rawValue }
    }

    @Test("shut down during a cold start: the invocation ends, and no container of the host is left, nor appears later",
          arguments: Moment.allCases)
    func shutdownDuringColdStart(moment: Moment) async throws {
        try await FunctionTestSupport.withHost { host in
            host.deploy(FunctionTestSupport.echo("cold-stop"))
            let labels = ["tandem.project=\(host.settings.project)"]
            let invocation = Task { await host.invoke("cold-stop", payload: ByteBuffer(string: #"{"echo":"x"}"#)) }
            switch moment {
            case .atOnce:
                break
            case .containerCreated:
                try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(2)) {
                    !((try? await host.engine.listContainers(all: true, labels: labels)) ?? []).isEmpty
                }
            case .containerRunning:
                try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(2)) {
                    ((try? await host.engine.listContainers(all: true, labels: labels)) ?? [])
                        .contains { $0.state == "running" }
                }
            }
            await host.shutdown()
            // Everything the host started is gone when shutdown returns …
            #expect(try await host.engine.listContainers(all: true, labels: labels).isEmpty)
            let result = await invocation.value
            if case .response = result.outcome {
                // (the start won the race: it answered before the shutdown)
            } else {
                #expect(result.errorDocument?.errorType == "Runtime.ShuttingDown")
            }
            // … and nothing starts afterwards, even when asked.
            let late = await host.invoke("cold-stop", payload: ByteBuffer(string: "{}"))
            #expect(late.environment == nil)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await host.engine.listContainers(all: true, labels: labels).isEmpty)
        }
    }
}
