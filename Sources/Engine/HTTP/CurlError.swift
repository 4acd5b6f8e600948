import CCurl

/// A libcurl call that failed: which call, curl's code, and curl's own words.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// The failing call, e.g. `curl_easy_setopt(CURLOPT_URL)` or `transfer POST /build`.
    public var call: String
    /// The raw `CURLcode` (or `CURLMcode` for `curl_multi_*` calls).
    public var code: Int
    /// `curl_easy_strerror` plus curl's error buffer when it said more.
    public var detail: String

    public init(call: String, code: Int, detail: String) {
        self.call = call
        self.code = code
        self.detail = detail
    }

    /// The connection could not be made at all (nothing listening, no socket file,
    /// connect timed out).
    public var isConnectFailure: Bool {
        code == Int(CURLE_COULDNT_CONNECT.rawValue) || code == Int(CURLE_COULDNT_RESOLVE_HOST.rawValue)
    }

    /// The transfer hit its time limit.
    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }

    public var description: String { "\(call) failed: \(detail) (curl code \(code))" }
}

/// Checks a `CURLcode` and names the call when it failed (cf. swift-nio's `syscall(where:)`).
@inline(__always)
func curlCheck(_ code: CURLcode, _ call: @autoclosure () -> String) throws(CurlError) {
    guard code == CURLE_OK else {
        throw CurlError(call: call(), code: Int(code.rawValue), detail: String(cString: curl_easy_strerror(code)))
    }
}

/// Checks a `CURLMcode` and names the call when it failed.
@inline(__always)
func curlCheck(_ code: CURLMcode, _ call: @autoclosure () -> String) throws(CurlError) {
    guard code == CURLM_OK else {
        throw CurlError(call: call(), code: Int(code.rawValue), detail: String(cString: curl_multi_strerror(code)))
    }
}
