import Foundation

/// Options for ``EngineClient/containerLogs(_:options:)``.
public struct LogsOptions: Sendable {
    public var follow = false
    public var stdout = true
    public var stderr = true
    public var timestamps = false
    /// Unix seconds.
    public var since: Int?
    public var until: Int?
    /// Number of lines from the end, `nil` for all.
    public var tail: Int?
    /// Whether the container has a TTY (raw output); `nil` asks the engine first.
    public var tty: Bool?

    public init(follow: Bool = false, tail: Int? = nil, tty: Bool? = nil) {
        self.follow = follow
        self.tail = tail
        self.tty = tty
    }
}

/// Everything a container printed, split by stream.
public struct ContainerOutput: Sendable, Equatable {
    public var stdout: [UInt8] = []
    public var stderr: [UInt8] = []
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public init() {}
}

extension EngineClient {
    /// Creates a container.
    /// Maps to `POST /containers/create?name=`.
    public func createContainer(_ spec: ContainerSpec, name: String? = nil) async throws -> ContainerCreateResponse {
        var query = Query()
        query.add("name", name)
        return try await post("/containers/create", query: query, body: spec)
    }

    /// Starts a container. Returns false when it was already running (HTTP 304,
    /// which the Docker CLI treats as success too).
    /// Maps to `POST /containers/{id}/start`.
    @discardableResult
    public func startContainer(_ id: String) async throws -> Bool {
        let status = try await postExpectingNoContent(
            "/containers/\(Self.segment(id))/start", route: "/containers/{id}/start", accept: [304])
        return status != 304
    }

    /// Stops a container (SIGTERM, then SIGKILL after `timeout` seconds). Returns
    /// false when it was already stopped (304).
    /// Maps to `POST /containers/{id}/stop?t=`.
    @discardableResult
    public func stopContainer(_ id: String, timeout: Int? = nil) async throws -> Bool {
        var query = Query()
        query.add("t", timeout)
        let status = try await postExpectingNoContent(
            "/containers/\(Self.segment(id))/stop", route: "/containers/{id}/stop", query: query, accept: [304],
            timeout: .seconds(Int64(timeout ?? 10) + 60))
        return status != 304
    }

    /// Sends a signal (default `SIGKILL`). A container that is not running is a `conflict`.
    /// Maps to `POST /containers/{id}/kill?signal=`.
    public func killContainer(_ id: String, signal: String? = nil) async throws {
        var query = Query()
        query.add("signal", signal)
        try await postExpectingNoContent("/containers/\(Self.segment(id))/kill", route: "/containers/{id}/kill", query: query)
    }

    /// Waits until the container reaches `condition`; no time limit (cancel the task to stop waiting).
    /// Maps to `POST /containers/{id}/wait?condition=`.
    public func waitContainer(_ id: String, condition: WaitCondition = .notRunning) async throws -> ContainerWaitResponse {
        var query = Query()
        query.add("condition", condition.rawValue)
        return try await post(
            "/containers/\(Self.segment(id))/wait", route: "/containers/{id}/wait", query: query, timeout: nil)
    }

    /// Freezes every process of the container.
    /// Maps to `POST /containers/{id}/pause`.
    public func pauseContainer(_ id: String) async throws {
        try await postExpectingNoContent("/containers/\(Self.segment(id))/pause", route: "/containers/{id}/pause")
    }

    /// Thaws a paused container.
    /// Maps to `POST /containers/{id}/unpause`.
    public func unpauseContainer(_ id: String) async throws {
        try await postExpectingNoContent("/containers/\(Self.segment(id))/unpause", route: "/containers/{id}/unpause")
    }

    /// State, config, network settings and applied host config.
    /// Maps to `GET /containers/{id}/json`.
    public func inspectContainer(_ id: String) async throws -> ContainerInspect {
        try await get("/containers/\(Self.segment(id))/json", route: "/containers/{id}/json")
    }

    /// Inspects a container that has exited. A SIGKILL exit (137) not marked
    /// `OOMKilled` is looked at again for up to `patience`: the engine learns
    /// of an OOM kill from a separate event that can land after the exit.
    public func inspectExited(_ id: String, patience: Duration = .seconds(2)) async throws -> ContainerInspect {
        var inspect = try await inspectContainer(id)
        let deadline = ContinuousClock.now + patience
        while inspect.state.exitCode == 137, !inspect.state.oomKilled, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            inspect = try await inspectContainer(id)
        }
        return inspect
    }

    /// Lists containers, optionally only those carrying every given label
    /// (`"key"` or `"key=value"`).
    /// Maps to `GET /containers/json?all=&filters=`.
    public func listContainers(
        all: Bool = true, labels: [String] = [], filters: [String: [String]] = [:]
    ) async throws -> [ContainerSummary] {
        var filters = filters
        if !labels.isEmpty { filters["label", default: []] += labels }
        var query = Query()
        query.add("all", all)
        query.add("filters", Self.filtersJSON(filters))
        return try await get("/containers/json", query: query)
    }

    /// Removes a container.
    /// Maps to `DELETE /containers/{id}?force=&v=`.
    public func removeContainer(_ id: String, force: Bool = false, removeVolumes: Bool = false) async throws {
        var query = Query()
        query.add("force", force)
        query.add("v", removeVolumes)
        _ = try await send("DELETE", "/containers/\(Self.segment(id))", route: "/containers/{id}", query: query)
    }

    /// One sample of resource usage.
    /// Maps to `GET /containers/{id}/stats?stream=false`.
    public func containerStats(_ id: String) async throws -> ContainerStats {
        var query = Query()
        query.add("stream", false)
        return try await get("/containers/\(Self.segment(id))/stats", route: "/containers/{id}/stats", query: query)
    }

    /// The container's output as it arrives: frames of non-TTY containers are split
    /// into stdout and stderr; TTY output comes as stdout. With `follow` the stream
    /// lasts until the container stops; stop iterating to end it early.
    /// Maps to `GET /containers/{id}/logs`.
    public func containerLogs(_ id: String, options: LogsOptions = LogsOptions()) async throws
        -> TransferStream<LogChunk>
    {
        let tty: Bool
        if let known = options.tty {
            tty = known
        } else {
            tty = try await inspectContainer(id).config?.tty ?? false
        }
        var query = Query()
        query.add("follow", options.follow)
        query.add("stdout", options.stdout)
        query.add("stderr", options.stderr)
        query.add("timestamps", options.timestamps)
        query.add("since", options.since)
        query.add("until", options.until)
        query.add("tail", options.tail.map(String.init) ?? "all")
        let response = try await openStream(
            "GET", "/containers/\(Self.segment(id))/logs", route: "/containers/{id}/logs", query: query)
        return Self.demultiplexed(response.body, raw: tty)
    }

    /// Collects a container's whole output (no follow).
    /// Maps to `GET /containers/{id}/logs`.
    public func containerOutput(_ id: String, tty: Bool? = nil) async throws -> ContainerOutput {
        var options = LogsOptions(follow: false, tty: tty)
        options.tty = tty
        return try await Self.collect(containerLogs(id, options: options))
    }

    static func collect(_ stream: TransferStream<LogChunk>) async throws -> ContainerOutput {
        var output = ContainerOutput()
        for try await chunk in stream {
            switch chunk.stream {
            case .stdout: output.stdout += chunk.bytes
            case .stderr, .systemError: output.stderr += chunk.bytes
            case .stdin: break
            }
        }
        return output
    }

    /// Turns a byte stream into log chunks; cancelling the result cancels the source.
    static func demultiplexed(_ body: TransferStream<[UInt8]>, raw: Bool) -> TransferStream<LogChunk> {
        let (stream, continuation) = AsyncThrowingStream<LogChunk, any Error>.makeStream()
        let task = Task {
                var demux = LogDemultiplexer()
                do {
                    for try await bytes in body {
                        if raw {
                            continuation.yield(LogChunk(stream: .stdout, bytes: bytes))
                        } else {
                            for chunk in try demux.feed(bytes) { continuation.yield(chunk) }
                        }
                    }
                    try demux.finish()
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
        }
        continuation.onTermination = { _ in task.cancel() }
        return TransferStream(stream, stop: { task.cancel(); body.cancel() })
    }
}
