import ArgumentParser
import Engine

/// `tandem-bench ping`: latency of `GET /_ping` through one `EngineClient` whose
/// connection is kept open and reused.
struct PingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Time engine.ping() (GET /_ping) after a warm-up; report p50/p90/p99 in µs."
    )

    @OptionGroup var engineOptions: EngineOptions

    @Option(help: "Measured pings.")
    var count = 200

    @Option(help: "Pings before measuring (opens the connection, warms caches).")
    var warmup = 50

    @Flag(help: "Include every sample (µs) in the output.")
    var samples = false

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup cannot be negative") }
    }

    struct Report: Encodable {
        let bench = "ping"
        let client = "tandem EngineClient.ping() (libcurl multi, one curl thread)"
        let request = "GET /_ping"
        let count: Int
        let warmup: Int
        let p50_us: Double
        let p90_us: Double
        let p99_us: Double
        let min_us: Double
        let mean_us: Double
        /// Summed CURLINFO_NUM_CONNECTS: connections curl opened.
        let connections_opened_warmup: Int
        let connections_opened_measured: Int
        let transfers_measured: Int
        let connection_reused: Bool
        let samples_us: [Double]?
    }

    func run() async throws {
        let engine = try engineOptions.client()
        for _ in 0..<warmup {
            try await engine.ping()
        }
        let connectsBefore = engine.http.connectionsOpened
        let transfersBefore = engine.http.transfersCompleted
        let clock = ContinuousClock()
        var times: [Double] = []
        times.reserveCapacity(count)
        for _ in 0..<count {
            let started = clock.now
            let body = try await engine.ping()
            let elapsed = clock.now - started
            guard body == "OK" else { throw BenchFailure("GET /_ping answered \(body.debugDescription), not \"OK\"") }
            times.append(elapsed.microseconds)
        }
        let connectsDuring = engine.http.connectionsOpened - connectsBefore
        // Reuse: after a warm-up nothing new is opened; without one, exactly one connection.
        let reused = warmup > 0 ? connectsDuring == 0 : connectsDuring <= 1
        try printJSON(
            Report(
                count: count, warmup: warmup,
                p50_us: Stats.round3(Stats.percentile(times, 50)),
                p90_us: Stats.round3(Stats.percentile(times, 90)),
                p99_us: Stats.round3(Stats.percentile(times, 99)),
                min_us: Stats.round3(times.min() ?? .nan),
                mean_us: Stats.round3(Stats.mean(times)),
                connections_opened_warmup: connectsBefore,
                connections_opened_measured: connectsDuring,
                transfers_measured: engine.http.transfersCompleted - transfersBefore,
                connection_reused: reused,
                samples_us: samples ? times.map(Stats.round3) : nil))
    }
}
