import ArgumentParser
import Engine
import Foundation
import FunctionMode
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `tandem-bench floor`: the engine's floor for a function's cold start, for
/// bench/function. Creates and starts the function's image with exactly the
/// container settings tandem's function mode uses (``EnvironmentContainer/spec``:
/// memory, CPU in proportion to memory, read-only root, user 993, no
/// capabilities, bridge network) through ``EngineClient``, and times
///
/// - `create_start_ms`: `POST /containers/create` → `POST …/start` returned (the
///   floor bench/function's target uses);
/// - `next_ms`: create → the runtime's first `GET …/runtime/invocation/next`
///   arriving at a tiny TCP listener on the bridge gateway (what a function
///   needs before it can take an event: the engine's start plus the process's
///   own start).
///
/// Neither includes what a cold invocation adds on top: delivering the event,
/// the handler, the response and the gateway hop. The container is removed
/// (forced) after each sample, outside the timings (`remove_ms`).
///
/// With `--serve` it prints a header line, then one JSON sample per line read
/// on stdin (so a driver can interleave it with its peers).
struct FloorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor",
        abstract: "Time create+start (and create → first GET /next) of a function image with tandem's container settings."
    )

    @OptionGroup var engine: EngineOptions

    @Option(help: "The function's image.")
    var image = "tandem/echo:latest"

    @Option(help: "Memory in MiB (CPU follows: 1 vCPU at 1,769).")
    var memory = 1769

    @Option(help: "Samples (without --serve).")
    var count = 10

    @Option(help: "Unmeasured samples first.")
    var warmup = 1

    @Flag(help: "Print a header line, then one sample per line read on stdin.")
    var serve = false

    struct Sample: Codable {
        var create_ms: Double
        var start_ms: Double
        var create_start_ms: Double
        var next_ms: Double?
        var remove_ms: Double
        var error: String?
    }

    struct Summary: Codable {
        var image: String
        var memory_mib: Int
        var nano_cpus: Int64
        var samples: [Sample]
        var create_start_p50_ms: Double
        var next_p50_ms: Double
    }

    struct Header: Codable {
        var ready: Bool
        var image: String
        var memory_mib: Int
        var nano_cpus: Int64
        var runtime_host: String
    }

    func run() async throws {
        let client = try engine.client()
        let network = try await client.inspectNetwork("bridge")
        guard let host = BridgeAddress.gateway(of: network) else {
            throw BenchFailure("the bridge network has no gateway address")
        }
        let definition = FunctionDefinition(name: "echo", image: image, memoryMiB: memory, timeout: .seconds(10))
        let nanoCpus = spec(definition, runtimeAPI: "\(host):1").hostConfig?.nanoCpus ?? 0
        for _ in 0..<warmup { _ = try await sample(client, definition, host: host) }
        if serve {
            try printJSON(Header(ready: true, image: image, memory_mib: memory, nano_cpus: nanoCpus, runtime_host: host))
            while let line = readLine() {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                do {
                    try printJSON(try await sample(client, definition, host: host))
                } catch {
                    try printJSON(Sample(create_ms: 0, start_ms: 0, create_start_ms: 0, next_ms: nil, remove_ms: 0,
                                         error: "\(error)"))
                }
            }
            return
        }
        var samples: [Sample] = []
        for _ in 0..<count { samples.append(try await sample(client, definition, host: host)) }
        try printJSON(Summary(
            image: image, memory_mib: memory, nano_cpus: nanoCpus, samples: samples,
            create_start_p50_ms: Stats.round3(Stats.median(samples.map(\.create_start_ms))),
            next_p50_ms: Stats.round3(Stats.median(samples.compactMap(\.next_ms)))))
    }

    private func spec(_ definition: FunctionDefinition, runtimeAPI: String) -> ContainerSpec {
        var settings = FunctionHostSettings()
        settings.project = "bench-floor"
        var spec = EnvironmentContainer.spec(
            definition, runtimeAPI: runtimeAPI, environment: EnvironmentID("floor"), initialization: .onDemand,
            settings: settings, date: "2026/01/01")
        spec.labels = (spec.labels ?? [:]).merging(["tandem.bench": "function"]) { _, new in new }
        return spec
    }

    private func sample(_ client: EngineClient, _ definition: FunctionDefinition, host: String) async throws -> Sample {
        let listener = try NextListener(host: host)
        defer { listener.close() }
        let clock = ContinuousClock()
        let spec = spec(definition, runtimeAPI: "\(host):\(listener.port)")
        let t0 = clock.now
        listener.begin()
        let id = try await client.createContainer(spec).id
        let t1 = clock.now
        var failure: String?
        var started: ContinuousClock.Instant = t1
        do {
            _ = try await client.startContainer(id)
            started = clock.now
        } catch {
            failure = "\(error)"
        }
        let arrived = failure == nil ? await listener.arrival(timeout: .seconds(5)) : nil
        if failure == nil, arrived == nil { failure = "the runtime's first GET /next did not arrive within 5 s" }
        let r0 = clock.now
        try? await client.removeContainer(id, force: true)
        let r1 = clock.now
        if let failure { throw BenchFailure(failure) }
        return Sample(
            create_ms: Stats.round3((t1 - t0).milliseconds), start_ms: Stats.round3((started - t1).milliseconds),
            create_start_ms: Stats.round3((started - t0).milliseconds),
            next_ms: arrived.map { Stats.round3(($0 - t0).milliseconds) },
            remove_ms: Stats.round3((r1 - r0).milliseconds), error: nil)
    }
}

/// A one-shot TCP listener: a thread accepts the first connection and notes the
/// moment its first request line (`GET …/next`) has arrived.
final class NextListener: Sendable {
    let port: Int
    private let fd: Int32
    private struct State {
        var arrivedAt: ContinuousClock.Instant?
        var done = false
        var closed = false
    }
    private let state = Mutex(State())

    init(host: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchFailure("socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(fd)
            throw BenchFailure("not an IPv4 address: \(host)")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw BenchFailure("bind/listen on \(host): errno \(code)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts the accepting thread (gives up after 10 s).
    func begin() {
        let thread = Thread { [self] in
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 10_000) == 1 else { return finish(nil) }
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return finish(nil) }
            defer { Glibc.close(connection) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while received.count < 65_536 {
                var reader = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
                guard poll(&reader, 1, 10_000) == 1 else { return finish(nil) }
                let n = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return finish(nil) }
                received += buffer[0..<n]
                // The request head is complete: a GET has no body.
                if Self.hasHeadEnd(received) {
                    return finish(ContinuousClock.now)
                }
            }
            finish(nil)
        }
        thread.start()
    }

    private static func hasHeadEnd(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return true
        }
        return false
    }

    private func finish(_ instant: ContinuousClock.Instant?) {
        state.withLock { state in
            state.arrivedAt = instant
            state.done = true
        }
    }

    /// When the first request arrived; nil if none did within `timeout`.
    func arrival(timeout: Duration) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (isDone, instant) = state.withLock { ($0.done, $0.arrivedAt) }
            if isDone { return instant }
            try? await Task.sleep(for: .microseconds(200))
        }
        return nil
    }

    func close() {
        let wasClosed = state.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        guard !wasClosed else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
