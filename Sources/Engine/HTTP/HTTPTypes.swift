/// One HTTP header field as sent or received.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A request for ``CurlHTTPClient``: method, path (with query), headers and body.
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, `PUT`, `DELETE`, `HEAD`, …
    public var method: String
    /// The path and query, starting with `/`, appended to the client's base URL.
    public var path: String
    public var headers: [HTTPHeader]
    public var body: HTTPRequestBody
    /// The whole transfer's time limit; `nil` means no limit (streams, long waits).
    public var timeout: Duration?

    public init(
        method: String = "GET",
        path: String,
        headers: [HTTPHeader] = [],
        body: HTTPRequestBody = .none,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What a request sends.
public enum HTTPRequestBody: Sendable {
    case none
    /// A body held in memory; curl copies it (`CURLOPT_COPYPOSTFIELDS`).
    case bytes([UInt8])
    /// A body produced while it is sent. The producer writes through the writer,
    /// which suspends while curl has not taken what was written (bounded buffer);
    /// curl pulls it from a `CURLOPT_READFUNCTION`. With `length == nil` the body is
    /// sent with `Transfer-Encoding: chunked`.
    case stream(length: Int64?, producer: @Sendable (HTTPBodyWriter) async throws -> Void)
}

/// A complete response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A response whose body arrives as it is received. Stop iterating (or drop the
/// stream) to abort the transfer.
public struct HTTPStreamingResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: TransferStream<[UInt8]>

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Reads the whole remaining body.
    public func collect(limit: Int = 64 << 20) async throws -> [UInt8] {
        var all: [UInt8] = []
        for try await chunk in body {
            all += chunk
            if all.count > limit { break }
        }
        return all
    }
}
