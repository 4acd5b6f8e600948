import Foundation
import HTTPTypes
import NIOCore
import Synchronization
@testable import FunctionMode
@testable import Gateway

/// Builds results the way FunctionHost reports them.
enum Results {
    static let requestID = InvocationID("8f1c1f8e-0000-4000-8000-000000000001")

    static func make(_ outcome: InvocationOutcome, function: String = "echo", log: String? = nil) -> InvocationResult {
        InvocationResult(
            requestID: requestID, function: function, outcome: outcome, environment: EnvironmentID("env-1"),
            duration: .milliseconds(1), initDuration: nil, totalDuration: .milliseconds(2), memorySizeMiB: 128, log: log)
    }

    static func response(_ body: String, log: String? = nil) -> InvocationResult {
        make(.response(ByteBuffer(string: body)), log: log)
    }
}

/// A function invoker with canned answers, that records what it was asked.
final class FakeInvoker: FunctionInvoker {
    struct Call: Sendable {
        var name: String
        var payload: String
        var clientContext: String?
        var includeLog: Bool
    }

    let functions: Set<String>
    private let answer: @Sendable (String, ByteBuffer) -> InvocationOutcome
    private let log: String?
    private let state = Mutex<(calls: [Call], events: [Call], failEnqueue: Bool)>(([], [], false))

    init(functions: Set<String> = ["echo"], log: String? = nil,
         answer: @escaping @Sendable (String, ByteBuffer) -> InvocationOutcome = { _, payload in .response(payload) }) {
        self.functions = functions
        self.answer = answer
        self.log = log
    }

    var calls: [Call] { state.withLock { $0.calls } }
    var events: [Call] { state.withLock { $0.events } }
    func failEnqueue() { state.withLock { $0.failEnqueue = true } }

    func functionExists(_ name: String) -> Bool { functions.contains(name) }

    func invoke(_ name: String, payload: ByteBuffer, clientContext: String?, includeLog: Bool) async -> InvocationResult {
        state.withLock {
            $0.calls.append(Call(name: name, payload: String(buffer: payload), clientContext: clientContext, includeLog: includeLog))
        }
        let outcome: InvocationOutcome = functions.contains(name) ? answer(name, payload) : .rejected(.unknownFunction)
        return Results.make(outcome, function: name, log: includeLog ? log : nil)
    }

    struct QueueDown: Error {}

    func enqueue(_ name: String, payload: ByteBuffer) async throws -> InvocationID {
        let fail = state.withLock { state -> Bool in
            if !state.failEnqueue {
                state.events.append(Call(name: name, payload: String(buffer: payload), clientContext: nil, includeLog: false))
            }
            return state.failEnqueue
        }
        if fail { throw QueueDown() }
        return InvocationID("event-\(events.count)")
    }
}

extension HTTPFields {
    /// Looks a header up by a name written as text.
    subscript(named name: String) -> String? {
        HTTPField.Name(name).flatMap { self[$0] }
    }
}

/// Parses JSON for assertions.
func json(_ buffer: ByteBuffer) -> [String: Any]? {
    try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
}

func json(_ text: String) -> [String: Any]? {
    json(ByteBuffer(string: text))
}
