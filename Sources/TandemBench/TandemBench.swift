import ArgumentParser
import Engine
import Foundation

/// The root command: `tandem-bench ping | lifecycle | concurrent | floor | gateway-proxy`.
struct TandemBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem-bench",
        abstract: "Measure tandem's Engine client against the Docker engine; each subcommand prints one JSON object.",
        discussion: """
            Driven by bench/engine, which runs the peers (curl, docker run, a minimal \
            Python client) in the same run and compares medians.
            """,
        subcommands: [PingBench.self, LifecycleBench.self, ConcurrentBench.self, FloorBench.self, GatewayProxyBench.self]
    )
}

/// Options every subcommand takes.
struct EngineOptions: ParsableArguments {
    @Option(help: "The engine's Unix socket (default: DOCKER_HOST=unix://… or /var/run/docker.sock).")
    var socket: String?

    func client() throws -> EngineClient {
        try EngineClient(socketPath: socket)
    }
}

/// A failed check inside a benchmark (wrong answer, non-zero exit, missing output).
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Milliseconds and microseconds as `Double`s.
extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15
    }
    var microseconds: Double {
        Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12
    }
}

/// Percentiles with linear interpolation between closest ranks (the p50 of an even
/// count is the mean of the middle two, like Python's `statistics.median`).
enum Stats {
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let fraction = rank - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }

    static func median(_ values: [Double]) -> Double { percentile(values, 50) }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// Rounds for output (three decimals).
    static func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// Writes a value as one line of JSON (sorted keys) to stdout, unbuffered (a
/// driver reading a pipe sees each line at once).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    try FileHandle.standardOutput.write(contentsOf: data)
}
