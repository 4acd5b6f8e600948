import Engine

/// One probe of a replica, as its ``HealthPolicy`` says: the port answers
/// HTTP at all, `GET PATH` answers 2xx/3xx, or a command inside exits 0.
struct HealthProbe: Sendable {
    let engine: EngineClient

    struct Outcome: Sendable {
        var healthy: Bool
        var message: String
    }

    func run(_ probe: HealthPolicy.Probe, container: String, address: String?, port: Int, timeout: Duration) async -> Outcome {
        switch probe {
        case .port:
            guard let address else { return Outcome(healthy: false, message: "the replica has no address") }
            return await get("/", address: address, port: port, timeout: timeout) { _ in true }
        case .http(let path):
            guard let address else { return Outcome(healthy: false, message: "the replica has no address") }
            return await get(path, address: address, port: port, timeout: timeout) { (200..<400).contains($0) }
        case .command(let command):
            return await exec(command, container: container, timeout: timeout)
        }
    }

    /// Any HTTP answer means the server listens; `accept` decides whether it is healthy.
    private func get(_ path: String, address: String, port: Int, timeout: Duration,
                     accept: (Int) -> Bool) async -> Outcome {
        let client = engine.http.sharingLoop(with: .tcp(baseURL: "http://\(address):\(port)"))
        do {
            let response = try await client.execute(HTTPRequest(method: "GET", path: path, timeout: timeout))
            return Outcome(healthy: accept(response.status), message: "GET \(path) answered \(response.status)")
        } catch {
            return Outcome(healthy: false, message: "GET \(path) on port \(port): \(error)")
        }
    }

    private func exec(_ command: [String], container: String, timeout: Duration) async -> Outcome {
        let engine = engine
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    let result = try await engine.exec(container, ExecSpec(cmd: command))
                    let output = (result.output.stdoutText + result.output.stderrText)
                        .split(separator: "\n").last.map(String.init) ?? ""
                    return Outcome(healthy: result.exitCode == 0,
                                   message: "\(command.joined(separator: " ")) exited \(result.exitCode)"
                                       + (output.isEmpty ? "" : ": \(output)"))
                } catch {
                    return Outcome(healthy: false, message: "\(command.joined(separator: " ")): \(error)")
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : Outcome(healthy: false, message: "timed out after \(timeout)")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? Outcome(healthy: false, message: "timed out after \(timeout)")
        }
    }
}
