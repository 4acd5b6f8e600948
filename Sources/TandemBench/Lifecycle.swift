import Engine
import Foundation

/// What every peer runs: the same image, the same Cmd, the same label, and the
/// engine's default network (bridge; no HostConfig is sent).
struct LifecycleSetup: Sendable {
    static let label = ["tandem.bench": "engine"]
    static let network = "bridge (engine default: no HostConfig sent)"

    let image: String
    let cmd: [String]
    /// Text the container must print (the hello image greets its arguments).
    let expect: String

    var spec: ContainerSpec {
        ContainerSpec(image: image, cmd: cmd, labels: Self.label)
    }

    /// The create body as the client sends it (its encoder sorts keys), so the
    /// Python peer can check it sends the same bytes.
    var createBody: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(spec)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// Milliseconds per step of one container lifecycle.
struct LifecycleSample: Codable, Sendable {
    var create: Double
    var start: Double
    var wait: Double
    var logs: Double
    var remove: Double
    var total: Double

    static let steps = ["create", "start", "wait", "logs", "remove", "total"]

    func value(_ step: String) -> Double {
        switch step {
        case "create": create
        case "start": start
        case "wait": wait
        case "logs": logs
        case "remove": remove
        default: total
        }
    }
}

extension LifecycleSample {
    /// create → start → wait → logs → remove, one call each:
    /// `POST /containers/create`, `POST /containers/{id}/start`,
    /// `POST /containers/{id}/wait?condition=not-running`,
    /// `GET /containers/{id}/logs?follow=0&stdout=1&stderr=1&timestamps=0&tail=all`,
    /// `DELETE /containers/{id}?force=0&v=0`.
    /// On failure the container is removed (forced) before the error is rethrown.
    static func run(_ setup: LifecycleSetup, with engine: EngineClient) async throws -> LifecycleSample {
        let clock = ContinuousClock()
        let t0 = clock.now
        let id = try await engine.createContainer(setup.spec).id
        let t1 = clock.now
        do {
            try await engine.startContainer(id)
            let t2 = clock.now
            let exit = try await engine.waitContainer(id)
            let t3 = clock.now
            // tty: false — the hello image has no TTY; saves an inspect call.
            let output = try await engine.containerOutput(id, tty: false)
            let t4 = clock.now
            try await engine.removeContainer(id)
            let t5 = clock.now
            guard exit.statusCode == 0 else {
                throw BenchFailure("container \(id.prefix(12)) exited \(exit.statusCode): \(output.stderrText)")
            }
            guard output.stdoutText.contains(setup.expect) else {
                throw BenchFailure("container \(id.prefix(12)) printed \(output.stdoutText.debugDescription), expected \(setup.expect.debugDescription)")
            }
            return LifecycleSample(
                create: (t1 - t0).milliseconds, start: (t2 - t1).milliseconds, wait: (t3 - t2).milliseconds,
                logs: (t4 - t3).milliseconds, remove: (t5 - t4).milliseconds, total: (t5 - t0).milliseconds)
        } catch {
            try? await engine.removeContainer(id, force: true)
            throw error
        }
    }
}

/// Per-step medians and (optionally) samples, keyed by step name.
struct StepSummary: Encodable {
    let median_ms: [String: Double]
    let samples_ms: [String: [Double]]?

    init(_ samples: [LifecycleSample], includeSamples: Bool) {
        var medians: [String: Double] = [:]
        var all: [String: [Double]] = [:]
        for step in LifecycleSample.steps {
            let values = samples.map { $0.value(step) }
            medians[step] = Stats.round3(Stats.median(values))
            all[step] = values.map(Stats.round3)
        }
        median_ms = medians
        samples_ms = includeSamples ? all : nil
    }
}

/// The lifecycle's calls where the engine answers quickly and steadily, so that a
/// client's own cost per call shows above the engine's noise: `create` and
/// `remove` of a container that is never started, and `wait` and `logs` on a
/// container that has already exited (milliseconds).
struct CallSample: Codable, Sendable {
    var create: Double
    var wait: Double
    var logs: Double
    var remove: Double

    static let calls = ["create", "wait", "logs", "remove"]

    /// Creates, starts and waits for a container, which then serves `wait` and `logs`.
    static func prepareExited(_ setup: LifecycleSetup, with engine: EngineClient) async throws -> String {
        let id = try await engine.createContainer(setup.spec).id
        try await engine.startContainer(id)
        _ = try await engine.waitContainer(id)
        return id
    }

    static func run(_ setup: LifecycleSetup, exited: String, with engine: EngineClient) async throws -> CallSample {
        let clock = ContinuousClock()
        let t0 = clock.now
        let exit = try await engine.waitContainer(exited)
        let t1 = clock.now
        let output = try await engine.containerOutput(exited, tty: false)
        let t2 = clock.now
        let id = try await engine.createContainer(setup.spec).id
        let t3 = clock.now
        try await engine.removeContainer(id)
        let t4 = clock.now
        guard exit.statusCode == 0, output.stdoutText.contains(setup.expect) else {
            throw BenchFailure("container \(exited.prefix(12)): exit \(exit.statusCode), output \(output.stdoutText.debugDescription)")
        }
        return CallSample(
            create: (t3 - t2).milliseconds, wait: (t1 - t0).milliseconds, logs: (t2 - t1).milliseconds,
            remove: (t4 - t3).milliseconds)
    }
}
