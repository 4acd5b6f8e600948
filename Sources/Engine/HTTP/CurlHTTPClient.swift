import Logging
import Synchronization

/// A small HTTP/1.1 client over libcurl's multi interface, for a Unix socket or a
/// TCP base URL. One dedicated thread runs every transfer; async callers never
/// block the cooperative pool. Connections are kept open and reused.
///
/// ```swift
/// let client = try CurlHTTPClient(endpoint: .unixSocket(path: "/var/run/docker.sock"))
/// let response = try await client.execute(HTTPRequest(path: "/_ping"))
/// ```
public final class CurlHTTPClient: Sendable {
    /// Where requests go.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// HTTP over a Unix domain socket (the Docker Engine API).
        case unixSocket(path: String)
        /// HTTP over TCP, e.g. `http://172.17.0.5:8080` (no trailing slash needed).
        case tcp(baseURL: String)

        public var description: String {
            switch self {
            case .unixSocket(let path): return path
            case .tcp(let baseURL): return baseURL
            }
        }
    }

    /// Shuts the curl thread down when the last client sharing it goes away.
    private final class LoopOwner: Sendable {
        let loop: CurlLoop
        init(_ loop: CurlLoop) { self.loop = loop }
        deinit { loop.shutdown() }
    }

    public let endpoint: Endpoint
    private let owner: LoopOwner
    private let baseURL: String
    private let socketPath: String?

    /// Starts a curl thread for this client.
    /// - Parameter connectTimeout: how long a connect may take (`CURLOPT_CONNECTTIMEOUT_MS`).
    public convenience init(
        endpoint: Endpoint,
        connectTimeout: Duration = .milliseconds(800),
        logger: Logger = Logger(label: "tandem.curl")
    ) throws {
        let loop = try CurlLoop(connectTimeout: connectTimeout, logger: logger)
        self.init(endpoint: endpoint, owner: LoopOwner(loop))
    }

    private init(endpoint: Endpoint, owner: LoopOwner) {
        self.endpoint = endpoint
        self.owner = owner
        switch endpoint {
        case .unixSocket(let path):
            baseURL = "http://localhost"
            socketPath = path
        case .tcp(let url):
            var url = url
            while url.hasSuffix("/") { url.removeLast() }
            baseURL = url
            socketPath = nil
        }
    }

    /// A client for another endpoint that shares this client's curl thread and
    /// connection cache.
    public func sharingLoop(with endpoint: Endpoint) -> CurlHTTPClient {
        CurlHTTPClient(endpoint: endpoint, owner: owner)
    }

    /// Connections curl has opened so far (summed `CURLINFO_NUM_CONNECTS`); stays
    /// flat while requests reuse kept-open connections.
    public var connectionsOpened: Int { owner.loop.connectionsOpened.load(ordering: .relaxed) }

    /// Transfers finished so far (success or failure).
    public var transfersCompleted: Int { owner.loop.transfersCompleted.load(ordering: .relaxed) }

    /// Sends a request and returns the whole response. Cancelling the task aborts
    /// the transfer.
    /// - Throws: ``CurlError`` for transport failures, `CancellationError` when cancelled.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = makeTransfer(request)
        let loop = owner.loop
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                transfer.install(.buffered(continuation))
                startProducer(transfer)
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }

    /// Sends a request and returns once the response head has arrived; the body
    /// follows as chunks. When the consumer stops iterating, cancels, or drops the
    /// stream, the transfer is removed from curl at once.
    public func stream(_ request: HTTPRequest) async throws -> HTTPStreamingResponse {
        let transfer = makeTransfer(request)
        let loop = owner.loop
        let (body, bodyContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        bodyContinuation.onTermination = { _ in loop.cancel(transfer) }
        let (status, headers) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int, [HTTPHeader]), any Error>) in
                transfer.install(.streaming(head: continuation, body: bodyContinuation))
                startProducer(transfer)
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        // The stream keeps the curl thread alive even if this client goes away first.
        let owner = self.owner
        return HTTPStreamingResponse(
            status: status, headers: headers,
            body: TransferStream(body, stop: { withExtendedLifetime(owner) { loop.cancel(transfer) } }))
    }

    private func makeTransfer(_ request: HTTPRequest) -> CurlTransfer {
        let loop = owner.loop
        var writer: HTTPBodyWriter?
        let box = TransferBox()
        if case .stream = request.body {
            writer = HTTPBodyWriter(unpause: { if let t = box.transfer { loop.unpause(t) } })
        }
        let transfer = CurlTransfer(request: request, url: baseURL + request.path, socketPath: socketPath, bodyWriter: writer)
        box.transfer = transfer
        return transfer
    }

    private func startProducer(_ transfer: CurlTransfer) {
        guard case .stream(_, let producer) = transfer.request.body, let writer = transfer.bodyWriter else { return }
        let loop = owner.loop
        transfer.producerTask = Task {
            do {
                try await producer(writer)
                writer.finish()
            } catch {
                // Recorded before the writer fails: curl sees the abort at once.
                transfer.markFailed(error)
                writer.fail()
                loop.cancel(transfer)
            }
        }
    }
}

/// Breaks the writer → transfer reference cycle (weakly held).
private final class TransferBox: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private weak var _transfer: CurlTransfer?
    var transfer: CurlTransfer? {
        get { lock.withLock { _ in _transfer } }
        set { lock.withLock { _ in _transfer = newValue } }
    }
}
