import ArgumentParser
import Engine
import Foundation

/// Options shared by `lifecycle` and `concurrent`.
struct ContainerOptions: ParsableArguments {
    @Option(help: "The image to run (built by `tandem build images/hello`).")
    var image = "tandem/hello:latest"

    @Option(parsing: .upToNextOption, help: "The container's Cmd (arguments to the hello entrypoint).")
    var cmd: [String] = ["bench"]

    var setup: LifecycleSetup {
        LifecycleSetup(image: image, cmd: cmd, expect: "hello, \(cmd.joined(separator: " "))")
    }
}

/// `tandem-bench lifecycle`: sequential create → start → wait → logs → remove.
struct LifecycleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifecycle",
        abstract: "Run whole container lifecycles one after another; report per-step and total medians (ms)."
    )

    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var containerOptions: ContainerOptions

    @Option(help: "Measured lifecycles.")
    var count = 20

    @Option(help: "Lifecycles before measuring.")
    var warmup = 1

    @Flag(help: "Include every sample (ms) in the output.")
    var samples = false

    @Flag(help: """
        After the warm-up, print a header line, then run one lifecycle per line read on \
        stdin and print it as one JSON line (bench/engine interleaves peers this way); \
        --count is ignored.
        """)
    var serve = false

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup cannot be negative") }
    }

    struct ServeHeader: Encodable {
        let bench = "lifecycle"
        let client = "tandem EngineClient"
        let ready = true
        let image: String
        let cmd: [String]
        let labels = LifecycleSetup.label
        let network = LifecycleSetup.network
        let api_version: String
        let create_body: String
        let warmup: Int
    }

    struct ServeSample: Encodable {
        let sample_ms: LifecycleSample?
        let error: String?
        let connections_opened: Int
    }

    struct Report: Encodable {
        let bench = "lifecycle"
        let client = "tandem EngineClient"
        let image: String
        let cmd: [String]
        let labels = LifecycleSetup.label
        let network = LifecycleSetup.network
        let api_version: String
        let create_body: String
        let count: Int
        let warmup: Int
        let median_ms: [String: Double]
        let samples_ms: [String: [Double]]?
        let connections_opened_measured: Int
        let transfers_measured: Int
    }

    func run() async throws {
        let engine = try engineOptions.client()
        let setup = containerOptions.setup
        let version = try await engine.apiVersion()
        for _ in 0..<warmup {
            _ = try await LifecycleSample.run(setup, with: engine)
        }
        if serve {
            try await serveLines(setup, engine: engine, version: version)
            return
        }
        let connectsBefore = engine.http.connectionsOpened
        let transfersBefore = engine.http.transfersCompleted
        var results: [LifecycleSample] = []
        for _ in 0..<count {
            results.append(try await LifecycleSample.run(setup, with: engine))
        }
        let summary = StepSummary(results, includeSamples: samples)
        try printJSON(
            Report(
                image: setup.image, cmd: setup.cmd, api_version: "\(version)", create_body: setup.createBody,
                count: count, warmup: warmup, median_ms: summary.median_ms, samples_ms: summary.samples_ms,
                connections_opened_measured: engine.http.connectionsOpened - connectsBefore,
                transfers_measured: engine.http.transfersCompleted - transfersBefore))
    }
}

extension LifecycleBench {
    struct ServeCalls: Encodable {
        let calls_ms: [CallSample]?
        let error: String?
        let connections_opened: Int
    }

    /// Reads commands on stdin until EOF or `quit`, answering each with one JSON line:
    /// `run` — one lifecycle; `calls N` — N rounds of ``CallSample``.
    func serveLines(_ setup: LifecycleSetup, engine: EngineClient, version: APIVersion) async throws {
        try printJSON(
            ServeHeader(
                image: setup.image, cmd: setup.cmd, api_version: "\(version)", create_body: setup.createBody,
                warmup: warmup))
        var exited: String?
        while let line = readLine(), line != "quit" {
            let words = line.split(separator: " ")
            if words.first == "calls" {
                let rounds = words.count > 1 ? Int(words[1]) ?? 1 : 1
                do {
                    let id: String
                    if let known = exited {
                        id = known
                    } else {
                        id = try await CallSample.prepareExited(setup, with: engine)
                        exited = id
                    }
                    var samples: [CallSample] = []
                    for _ in 0..<rounds { samples.append(try await CallSample.run(setup, exited: id, with: engine)) }
                    try printJSON(ServeCalls(calls_ms: samples, error: nil, connections_opened: engine.http.connectionsOpened))
                } catch {
                    try printJSON(ServeCalls(calls_ms: nil, error: "\(error)", connections_opened: engine.http.connectionsOpened))
                }
                continue
            }
            let sample: ServeSample
            do {
                let result = try await LifecycleSample.run(setup, with: engine)
                sample = ServeSample(sample_ms: result, error: nil, connections_opened: engine.http.connectionsOpened)
            } catch {
                sample = ServeSample(sample_ms: nil, error: "\(error)", connections_opened: engine.http.connectionsOpened)
            }
            try printJSON(sample)
        }
        if let exited { try? await engine.removeContainer(exited, force: true) }
    }
}

/// `tandem-bench concurrent`: N lifecycles in flight at once through one client.
struct ConcurrentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concurrent",
        abstract: "Run N lifecycles at once through one client; report wall time and failures."
    )

    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var containerOptions: ContainerOptions

    @Option(help: "Lifecycles in flight at once.")
    var count = 16

    @Option(help: "Bursts of --count lifecycles, one after another (wall time is reported per burst).")
    var rounds = 1

    @Option(help: "Sequential lifecycles before the first burst.")
    var warmup = 1

    @Option(help: """
        Sequential lifecycles just before each burst: the "one lifecycle" the burst's wall \
        time is compared with, measured under the same load.
        """)
    var reference = 3

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be at least 1") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup cannot be negative") }
        if reference < 1 { throw ValidationError("--reference must be at least 1") }
    }

    struct Round: Encodable {
        /// Median of the sequential lifecycles run just before this burst.
        let sequential_median_ms: Double
        /// wall / (count × sequential median).
        let wall_over_serial: Double
        let wall_ms: Double
        let failures: Int
        let lifecycle_median_ms: Double?
        let lifecycle_max_ms: Double?
    }

    struct Report: Encodable {
        let bench = "concurrent"
        let client = "tandem EngineClient (one client, one curl thread)"
        let image: String
        let cmd: [String]
        let labels = LifecycleSetup.label
        let network = LifecycleSetup.network
        let in_flight: Int
        let rounds: [Round]
        let wall_median_ms: Double
        let wall_over_serial_median: Double
        let failures: Int
        let errors: [String]
        let step_median_ms: [String: Double]
        let connections_opened_measured: Int
    }

    func run() async throws {
        let engine = try engineOptions.client()
        let setup = containerOptions.setup
        _ = try await engine.apiVersion()
        for _ in 0..<warmup {
            _ = try await LifecycleSample.run(setup, with: engine)
        }
        let connectsBefore = engine.http.connectionsOpened
        let clock = ContinuousClock()
        var reports: [Round] = []
        var errors: [String] = []
        var allSamples: [LifecycleSample] = []
        for _ in 0..<rounds {
            var sequential: [Double] = []
            for _ in 0..<reference {
                sequential.append(try await LifecycleSample.run(setup, with: engine).total)
            }
            let sequentialMedian = Stats.median(sequential)
            let started = clock.now
            let outcomes = await withTaskGroup(of: Result<LifecycleSample, any Error>.self) { group in
                for _ in 0..<count {
                    group.addTask {
                        do { return .success(try await LifecycleSample.run(setup, with: engine)) } catch { return .failure(error) }
                    }
                }
                var outcomes: [Result<LifecycleSample, any Error>] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let wall = (clock.now - started).milliseconds
            var samples: [LifecycleSample] = []
            for outcome in outcomes {
                switch outcome {
                case .success(let sample): samples.append(sample)
                case .failure(let error): errors.append("\(error)")
                }
            }
            allSamples += samples
            let totals = samples.map(\.total)
            reports.append(
                Round(
                    sequential_median_ms: Stats.round3(sequentialMedian),
                    wall_over_serial: Stats.round3(wall / (Double(count) * sequentialMedian)),
                    wall_ms: Stats.round3(wall), failures: count - samples.count,
                    lifecycle_median_ms: totals.isEmpty ? nil : Stats.round3(Stats.median(totals)),
                    lifecycle_max_ms: totals.max().map(Stats.round3)))
        }
        try printJSON(
            Report(
                image: setup.image, cmd: setup.cmd, in_flight: count, rounds: reports,
                wall_median_ms: Stats.round3(Stats.median(reports.map(\.wall_ms))),
                wall_over_serial_median: Stats.round3(Stats.median(reports.map(\.wall_over_serial))),
                failures: errors.count, errors: Array(errors.prefix(10)),
                step_median_ms: StepSummary(allSamples, includeSamples: false).median_ms,
                connections_opened_measured: engine.http.connectionsOpened - connectsBefore))
    }
}
