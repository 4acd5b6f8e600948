import Engine
import Foundation

/// Talks to a running controller over its control socket.
public struct ControlClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// Whether a controller answers on the socket.
    public func isAnswering() async -> Bool {
        guard let client = try? CurlHTTPClient(endpoint: .unixSocket(path: socketPath)) else { return false }
        let response = try? await client.execute(HTTPRequest(path: "/v1/ps", timeout: .seconds(2)))
        return response?.status == 200
    }

    public func processList() async throws -> ProcessList {
        let response = try await send(HTTPRequest(path: "/v1/ps", timeout: .seconds(10)))
        do {
            return try JSONDecoder().decode(ProcessList.self, from: Data(response.body))
        } catch {
            throw ControllerError(.unreadableAnswer, "the controller's answer to ps could not be read: \(error)", underlying: error)
        }
    }

    /// One invocation's answer as the controller reports it.
    public struct Invocation: Sendable {
        public var requestID: String
        public var body: [UInt8]
        public var functionError: String?
        public var log: String?
    }

    public func invoke(_ name: String, payload: [UInt8]) async throws -> Invocation {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
        let response = try await send(HTTPRequest(
            method: "POST", path: "/v1/functions/\(escaped)/invocations",
            headers: [HTTPHeader("Content-Type", "application/json")], body: .bytes(payload), timeout: .seconds(960)))
        return Invocation(
            requestID: response.header("X-Tandem-Request-Id") ?? "",
            body: response.body,
            functionError: response.header("X-Tandem-Function-Error"),
            log: response.header("X-Tandem-Log").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Queues an asynchronous invocation; returns its request id.
    public func enqueue(_ name: String, payload: [UInt8]) async throws -> String {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
        let response = try await send(HTTPRequest(
            method: "POST", path: "/v1/functions/\(escaped)/invocations?async=1",
            headers: [HTTPHeader("Content-Type", "application/json")], body: .bytes(payload), timeout: .seconds(30)))
        return response.header("X-Tandem-Request-Id") ?? ""
    }

    public func deadLetters() async throws -> [DeadLetter] {
        let response = try await send(HTTPRequest(path: "/v1/dlq", timeout: .seconds(30)))
        do {
            return try JSONDecoder().decode([DeadLetter].self, from: Data(response.body))
        } catch {
            throw ControllerError(.unreadableAnswer, "the controller's dead-letter list could not be read: \(error)",
                                  underlying: error)
        }
    }

    /// Puts a queue's dead letters back; returns how many.
    public func redrive(queue: String) async throws -> Int {
        let escaped = queue.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? queue
        let response = try await send(HTTPRequest(method: "POST", path: "/v1/dlq/redrive?queue=\(escaped)", timeout: .seconds(30)))
        return Int(String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Starts a run of a task with `payload` on its standard input; returns the run's id.
    public func startRun(_ name: String, payload: [UInt8]) async throws -> String {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
        let response = try await send(HTTPRequest(
            method: "POST", path: "/v1/tasks/\(escaped)/runs", body: .bytes(payload), timeout: .seconds(30)))
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String],
              let id = object["run"]
        else {
            throw ControllerError(.unreadableAnswer, "the controller's answer to run could not be read")
        }
        return id
    }

    /// Hands a run's output to `chunk` as it comes; returns when the run has ended.
    public func followRun(_ id: String, _ chunk: @Sendable ([UInt8]) -> Void) async throws {
        guard FileManager.default.fileExists(atPath: socketPath) else {
            throw ControllerError(.noController, "no controller is running here (no control socket at \(socketPath))")
        }
        let response: HTTPStreamingResponse
        do {
            let client = try CurlHTTPClient(endpoint: .unixSocket(path: socketPath))
            response = try await client.stream(HTTPRequest(path: "/v1/tasks/runs/\(id)/output", timeout: nil))
            guard response.status == 200 else {
                throw ControllerError(.refused, "the controller has no output for run \(id) (HTTP \(response.status))")
            }
            for try await bytes in response.body { chunk(bytes) }
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError(.connectionLost, "the run's output stopped: \(error)", underlying: error)
        }
    }

    /// A run's result, once it has ended.
    public func runResult(_ id: String) async throws -> ProcessList.TaskRun {
        let response = try await send(HTTPRequest(path: "/v1/tasks/runs/\(id)", timeout: nil))
        do {
            return try JSONDecoder().decode(ProcessList.TaskRun.self, from: Data(response.body))
        } catch {
            throw ControllerError(.unreadableAnswer, "the controller's run result could not be read: \(error)", underlying: error)
        }
    }

    /// Stops the controller; with `removingVolumes`, stateful services' volumes go too.
    public func down(removingVolumes: Bool = false) async throws {
        let path = removingVolumes ? "/v1/down?volumes=1" : "/v1/down"
        _ = try await send(HTTPRequest(method: "POST", path: path, timeout: .seconds(10)))
    }

    /// Sends one request to the controller.
    /// - Throws: ``ControllerError`` with ``ControllerError/Code/noController``
    ///   when there is no socket or nothing answers on it,
    ///   ``ControllerError/Code/refused`` (with a ``ControlRefusal``) when the
    ///   controller answers with an error status, and
    ///   ``ControllerError/Code/connectionLost`` when the exchange breaks off.
    private func send(_ request: HTTPRequest) async throws(ControllerError) -> HTTPResponse {
        guard FileManager.default.fileExists(atPath: socketPath) else {
            throw ControllerError(
                .noController, "no controller is running here (no control socket at \(socketPath)); start one with `tandem up`")
        }
        let response: HTTPResponse
        do {
            let client = try CurlHTTPClient(endpoint: .unixSocket(path: socketPath))
            response = try await client.execute(request)
        } catch let error as CurlError where !error.isConnectFailure {
            throw ControllerError(
                .connectionLost, "the controller on \(socketPath) did not answer completely (\(error))", underlying: error)
        } catch {
            throw ControllerError(
                .noController, "no controller answers on \(socketPath) (\(error)); start one with `tandem up`", underlying: error)
        }
        guard (200..<300).contains(response.status) else {
            let body = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let refusal = ControlRefusal(status: response.status, body: body)
            throw ControllerError(.refused, refusal.description, underlying: refusal)
        }
        return response
    }
}
