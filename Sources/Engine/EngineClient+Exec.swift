extension EngineClient {
    /// Prepares a command to run in a running container; returns the exec id.
    /// Maps to `POST /containers/{id}/exec`.
    public func createExec(_ containerID: String, _ spec: ExecSpec) async throws -> String {
        let response: IDResponse = try await post(
            "/containers/\(Self.segment(containerID))/exec", route: "/containers/{id}/exec", body: spec)
        return response.id
    }

    /// Starts an exec in the background.
    /// Maps to `POST /exec/{id}/start` with `Detach: true`.
    public func startExecDetached(_ execID: String) async throws {
        try await postExpectingNoContent(
            "/exec/\(Self.segment(execID))/start", route: "/exec/{id}/start", body: ExecStartSpec(detach: true, tty: false))
    }

    /// Starts an exec and streams its output until the command ends (TTY execs come as stdout).
    /// Maps to `POST /exec/{id}/start` with `Detach: false`.
    public func startExecAttached(_ execID: String, tty: Bool = false) async throws -> TransferStream<LogChunk> {
        let operation = "POST /exec/{id}/start"
        let body = try encode(ExecStartSpec(detach: false, tty: tty), operation: operation)
        let response = try await openStream(
            "POST", "/exec/\(Self.segment(execID))/start", route: "/exec/{id}/start", body: .bytes(body),
            headers: [HTTPHeader("Content-Type", "application/json")])
        return Self.demultiplexed(response.body, raw: tty)
    }

    /// State and exit code of an exec.
    /// Maps to `GET /exec/{id}/json`.
    public func inspectExec(_ execID: String) async throws -> ExecInspect {
        try await get("/exec/\(Self.segment(execID))/json", route: "/exec/{id}/json")
    }

    /// Runs a command in a running container, collecting its output and exit code
    /// (`POST /containers/{id}/exec`, `POST /exec/{id}/start`, `GET /exec/{id}/json`).
    public func exec(_ containerID: String, _ spec: ExecSpec) async throws -> ExecResult {
        let id = try await createExec(containerID, spec)
        let output = try await Self.collect(startExecAttached(id, tty: spec.tty ?? false))
        // The exit code is set just after the output stream closes.
        for _ in 0..<200 {
            let inspect = try await inspectExec(id)
            if !inspect.running, let code = inspect.exitCode {
                return ExecResult(exitCode: code, output: output)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw EngineError(.server, operation: "GET /exec/{id}/json", message: "exec \(id) still running after its output ended")
    }
}
