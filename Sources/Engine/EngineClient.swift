import Foundation
import Logging
import Synchronization

/// A Docker Engine API client (Docker, or Podman's compatible API) over libcurl and
/// the engine's Unix socket.
///
/// One client keeps its connections open and runs many requests at once on its
/// curl thread. The API version is negotiated from `GET /version` on first use:
/// `min(server's ApiVersion, 1.47)`, and every path is versioned (`/v1.41/...`).
public final class EngineClient: Sendable {
    /// The HTTP layer; function mode reuses its curl thread for requests to containers.
    public let http: CurlHTTPClient
    /// The socket (or base URL) requests go to, as shown in errors.
    public let endpointDescription: String
    let logger: Logger
    private let version = Mutex<APIVersion?>(nil)
    let encoder: JSONEncoder
    let decoder = JSONDecoder()

    /// Connects to the engine's Unix socket.
    /// - Parameter socketPath: nil for ``defaultSocketPath(environment:)``
    ///   (which throws for a `DOCKER_HOST` that is not a Unix socket).
    public convenience init(
        socketPath: String? = nil,
        logger: Logger = Logger(label: "tandem.engine")
    ) throws {
        let path = try socketPath ?? EngineClient.defaultSocketPath()
        let http = try CurlHTTPClient(endpoint: .unixSocket(path: path), logger: logger)
        self.init(http: http, logger: logger)
    }

    /// Uses an existing HTTP client (a Unix socket or `tcp://` engine).
    public init(http: CurlHTTPClient, logger: Logger = Logger(label: "tandem.engine")) {
        self.http = http
        self.endpointDescription = http.endpoint.description
        self.logger = logger
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.encoder = encoder
    }

    /// The socket when `DOCKER_HOST` names none.
    public static let standardSocketPath = "/var/run/docker.sock"

    /// The engine socket: `DOCKER_HOST=unix:///path` if set, else
    /// `/var/run/docker.sock` (also for an empty `DOCKER_HOST` or `unix://`).
    /// Throws ``EngineError/Code/unsupportedEndpoint`` for any other
    /// `DOCKER_HOST` (`tcp://`, `ssh://`, `npipe://`, a bare path…): tandem
    /// speaks to the engine over a Unix socket only, and using the default
    /// socket instead would quietly reach another engine than the one named.
    public static func defaultSocketPath(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(EngineError) -> String {
        guard let host = environment["DOCKER_HOST"]?.trimmingCharacters(in: .whitespaces), !host.isEmpty else {
            return standardSocketPath
        }
        guard host.hasPrefix("unix://") else {
            throw EngineError(
                .unsupportedEndpoint, operation: "DOCKER_HOST",
                message: "DOCKER_HOST=\(host) is not a Unix socket: tandem speaks to the engine over a Unix socket only. "
                    + "Set DOCKER_HOST=unix:///path/to/docker.sock, or unset it for \(standardSocketPath)")
        }
        let path = String(host.dropFirst("unix://".count))
        return path.isEmpty ? standardSocketPath : path
    }

    /// The API version in use, negotiated on first call.
    /// Maps to `GET /version` (unversioned).
    public func apiVersion() async throws -> APIVersion {
        if let known = version.withLock({ $0 }) { return known }
        let info: VersionInfo = try decode(
            VersionInfo.self, from: try await send("GET", "/version", versioned: false), operation: "GET /version")
        let server = APIVersion(info.apiVersion) ?? .oldestSupported
        let chosen = APIVersion.negotiate(server: server)
        version.withLock { $0 = chosen }
        logger.debug("negotiated engine API version", metadata: ["engine.api": "\(chosen)", "engine.server_api": "\(server)"])
        return chosen
    }

    // MARK: - Internal request helpers

    /// Sends a request and returns the response if its status is below 400 (and not
    /// 304 unless `accept` names it); other statuses become ``EngineError``s.
    /// - Parameters:
    ///   - route: the route template for errors, e.g. `/containers/{id}/start`; defaults to `path`.
    func send(
        _ method: String, _ path: String, route: String? = nil, query: Query = Query(), body: [UInt8]? = nil,
        headers: [HTTPHeader] = [], timeout: Duration? = .seconds(60), accept: Set<Int> = [], versioned: Bool = true
    ) async throws -> HTTPResponse {
        let operation = "\(method) \(route ?? path)"
        let fullPath = try await (versioned ? "/v\(apiVersion())" : "") + path + query.encoded
        var allHeaders = headers
        if body != nil { allHeaders.append(HTTPHeader("Content-Type", "application/json")) }
        let request = HTTPRequest(
            method: method, path: fullPath, headers: allHeaders, body: body.map { .bytes($0) } ?? .none, timeout: timeout)
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw mapTransportError(error, operation: operation)
        }
        if accept.contains(response.status) { return response }
        if response.status >= 300 || response.status < 200 {
            throw EngineError.from(status: response.status, body: response.body, operation: operation)
        }
        return response
    }

    /// Opens a streaming request; statuses of 400 and above are read in full and thrown.
    func openStream(
        _ method: String, _ path: String, route: String? = nil, query: Query = Query(), body: HTTPRequestBody = .none,
        headers: [HTTPHeader] = []
    ) async throws -> HTTPStreamingResponse {
        let operation = "\(method) \(route ?? path)"
        let fullPath = try await "/v\(apiVersion())" + path + query.encoded
        let request = HTTPRequest(method: method, path: fullPath, headers: headers, body: body, timeout: nil)
        let response: HTTPStreamingResponse
        do {
            response = try await http.stream(request)
        } catch {
            throw mapTransportError(error, operation: operation)
        }
        if response.status >= 300 || response.status < 200 {
            let body: [UInt8]
            do { body = try await response.collect(limit: 1 << 20) } catch { body = [] }
            throw EngineError.from(status: response.status, body: body, operation: operation)
        }
        return response
    }

    func mapTransportError(_ error: any Error, operation: String) -> EngineError {
        if let engine = error as? EngineError { return engine }
        if error is CancellationError {
            return EngineError(.cancelled, operation: operation, message: "cancelled", underlying: error)
        }
        if let curl = error as? CurlError {
            if curl.isConnectFailure {
                return EngineError.unreachable(socket: endpointDescription, operation: operation, underlying: curl)
            }
            if curl.isTimeout {
                return EngineError(.timeout, operation: operation, message: curl.detail, curlCode: curl.code, underlying: curl)
            }
            return EngineError(.transport, operation: operation, message: curl.detail, curlCode: curl.code, underlying: curl)
        }
        return EngineError(.transport, operation: operation, message: "\(error)", underlying: error)
    }

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse, operation: String) throws -> T {
        do {
            return try decoder.decode(T.self, from: Data(response.body))
        } catch {
            let sample = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw EngineError(
                .decoding, operation: operation, status: response.status,
                message: "cannot decode \(T.self): \(error) — body starts: \(sample)", underlying: error)
        }
    }

    func encode(_ value: some Encodable, operation: String) throws -> [UInt8] {
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw EngineError(.invalidArgument, operation: operation, message: "cannot encode request: \(error)", underlying: error)
        }
    }

    /// `GET` and decode.
    func get<T: Decodable>(
        _ path: String, route: String? = nil, query: Query = Query(), as type: T.Type = T.self,
        timeout: Duration? = .seconds(60)
    ) async throws -> T {
        let response = try await send("GET", path, route: route, query: query, timeout: timeout)
        return try decode(T.self, from: response, operation: "GET \(route ?? path)")
    }

    /// `POST` a JSON body (or none) and decode the answer.
    func post<T: Decodable>(
        _ path: String, route: String? = nil, query: Query = Query(), body: (some Encodable)? = nil as Empty?,
        as type: T.Type = T.self, timeout: Duration? = .seconds(60)
    ) async throws -> T {
        let operation = "POST \(route ?? path)"
        let bytes = try body.map { try encode($0, operation: operation) }
        let response = try await send("POST", path, route: route, query: query, body: bytes, timeout: timeout)
        return try decode(T.self, from: response, operation: operation)
    }

    /// `POST` with no interesting answer; returns the status (so 304 can be told apart).
    @discardableResult
    func postExpectingNoContent(
        _ path: String, route: String? = nil, query: Query = Query(), body: (some Encodable)? = nil as Empty?,
        accept: Set<Int> = [], timeout: Duration? = .seconds(60)
    ) async throws -> Int {
        let operation = "POST \(route ?? path)"
        let bytes = try body.map { try encode($0, operation: operation) }
        return try await send("POST", path, route: route, query: query, body: bytes, timeout: timeout, accept: accept).status
    }

    /// Encodes filters as the engine wants them: `{"label":["a=b"]}` as JSON.
    static func filtersJSON(_ filters: [String: [String]]) -> String? {
        guard !filters.isEmpty else { return nil }
        var parts: [String] = []
        for key in filters.keys.sorted() {
            let values = (filters[key] ?? []).map(JSONText.quoted).joined(separator: ",")
            parts.append("\(JSONText.quoted(key)):[\(values)]")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }


    /// Escapes a path segment (container name or id, image reference).
    static func segment(_ text: String) -> String { Query.escapePathSegment(text) }
}

/// An empty JSON body placeholder for helpers with an optional body.
struct Empty: Codable, Sendable {}
