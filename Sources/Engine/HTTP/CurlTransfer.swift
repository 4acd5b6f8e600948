import CCurl
import Synchronization

/// One request in flight. The curl-facing fields are touched only on the curl
/// thread; what callers touch (cancellation, continuations) is behind a `Mutex`.
/// The loop keeps the transfer in its active table for as long as the easy handle
/// carries its `Unmanaged` pointer, so the callbacks never see a freed object.
final class CurlTransfer: @unchecked Sendable {
    enum Delivery {
        case buffered(CheckedContinuation<HTTPResponse, any Error>)
        case streaming(
            head: CheckedContinuation<(Int, [HTTPHeader]), any Error>,
            body: AsyncThrowingStream<[UInt8], any Error>.Continuation)
    }

    private struct Shared {
        var delivery: Delivery?
        var cancelled = false
        var finished = false
        var headDelivered = false
        var producerFailure: (any Error)?
    }

    let request: HTTPRequest
    let url: String
    let socketPath: String?
    let description: String
    let bodyWriter: HTTPBodyWriter?
    private let shared = Mutex(Shared())

    // Curl thread only.
    var handle: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var errorBuffer: UnsafeMutablePointer<CChar>
    var status = 0
    var responseHeaders: [HTTPHeader] = []
    var responseBody: [UInt8] = []
    var headComplete = false
    var isStreaming = false
    var producerTask: Task<Void, Never>?

    init(request: HTTPRequest, url: String, socketPath: String?, bodyWriter: HTTPBodyWriter?) {
        self.request = request
        self.url = url
        self.socketPath = socketPath
        self.description = "\(request.method) \(request.path)"
        self.bodyWriter = bodyWriter
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
    }

    /// Installs the continuation; returns false when the transfer already ended.
    func install(_ delivery: Delivery) {
        if case .streaming = delivery { isStreaming = true }
        shared.withLock { $0.delivery = delivery }
    }

    /// Marks the transfer cancelled; the loop aborts it.
    func markCancelled() {
        shared.withLock { $0.cancelled = true }
    }

    var isCancelled: Bool { shared.withLock { $0.cancelled } }

    /// Why the transfer was stopped, when its body's producer failed: the
    /// caller gets that error rather than a bare cancellation.
    func markFailed(_ error: any Error) {
        shared.withLock { $0.producerFailure = error }
    }

    /// The error its body's producer failed with, if it did.
    var producerFailure: (any Error)? { shared.withLock { $0.producerFailure } }

    /// The error to end the transfer with when it is stopped.
    var stopError: any Error { producerFailure ?? CancellationError() }

    /// Called on the curl thread when the response head is complete.
    func deliverHead() {
        let head: CheckedContinuation<(Int, [HTTPHeader]), any Error>? = shared.withLock { shared in
            guard !shared.finished, !shared.headDelivered, case .streaming(let head, _) = shared.delivery else { return nil }
            shared.headDelivered = true
            return head
        }
        head?.resume(returning: (status, responseHeaders))
    }

    /// Called on the curl thread for every body chunk of a streaming transfer.
    /// Returns false when the consumer has gone away.
    func deliverChunk(_ bytes: [UInt8]) -> Bool {
        let body: AsyncThrowingStream<[UInt8], any Error>.Continuation? = shared.withLock { shared in
            guard !shared.finished, case .streaming(_, let body) = shared.delivery else { return nil }
            return body
        }
        guard let body else { return false }
        if case .terminated = body.yield(bytes) { return false }
        return true
    }

    /// Ends the transfer exactly once; continuations are resumed outside the lock.
    func finish(_ result: Result<Void, any Error>) {
        let taken: (Delivery?, Bool)? = shared.withLock { shared in
            guard !shared.finished else { return nil }
            shared.finished = true
            return (shared.delivery, shared.headDelivered)
        }
        bodyWriter?.close()
        producerTask?.cancel()
        producerTask = nil
        guard let (delivery, headDelivered) = taken, let delivery else { return }
        switch delivery {
        case .buffered(let continuation):
            switch result {
            case .success:
                continuation.resume(returning: HTTPResponse(status: status, headers: responseHeaders, body: responseBody))
            case .failure(let error):
                continuation.resume(throwing: error)
            }
        case .streaming(let head, let body):
            switch result {
            case .success:
                if !headDelivered { head.resume(returning: (status, responseHeaders)) }
                body.finish()
            case .failure(let error):
                if !headDelivered { head.resume(throwing: error) }
                body.finish(throwing: error)
            }
        }
    }

    /// Curl's error buffer, if it holds anything.
    var curlMessage: String {
        let text = String(cString: errorBuffer)
        return text
    }
}

// MARK: - Callbacks (global @convention(c) functions: no captures)

/// CURLOPT_HEADERFUNCTION: one header line per call.
func tandemCurlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let data, let context else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingTrailingNewline()
    if line.hasPrefix("HTTP/") {
        // A new response head (after a 1xx, a new status line begins).
        let parts = line.split(separator: " ", maxSplits: 2)
        transfer.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        transfer.responseHeaders = []
        transfer.headComplete = false
    } else if line.isEmpty {
        if transfer.status >= 200 || transfer.status == 0 {
            transfer.headComplete = true
            if transfer.isStreaming { transfer.deliverHead() }
        }
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingSpaces()
        transfer.responseHeaders.append(HTTPHeader(name, value))
    }
    return length
}

/// CURLOPT_WRITEFUNCTION: response body bytes.
func tandemCurlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    guard let data, length > 0 else { return length }
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    if transfer.isStreaming {
        if !transfer.headComplete {
            transfer.headComplete = true
            transfer.deliverHead()
        }
        return transfer.deliverChunk(Array(bytes)) ? length : 0
    }
    transfer.responseBody.append(contentsOf: bytes)
    return length
}

/// CURLOPT_READFUNCTION: streamed request body.
func tandemCurlReadCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return tandem_readfunc_abort() }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    guard let writer = transfer.bodyWriter else { return 0 }
    switch writer.read(into: UnsafeMutableRawBufferPointer(start: data, count: size * count)) {
    case .bytes(let n): return n
    case .end: return 0
    case .pause: return tandem_readfunc_pause()
    case .abort: return tandem_readfunc_abort()
    }
}

extension String {
    func trimmingTrailingNewline() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
