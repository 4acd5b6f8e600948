import HTTPTypes

/// Why a service's request could not be proxied — the one error of the
/// proxy path — with the status it is answered with.
struct ProxyFailure: Error, Equatable, Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var reason: String

    var description: String { "\(status.code) \(reason)" }

    static let noReplica = ProxyFailure(status: .serviceUnavailable, reason: "no ready replica")
    static let queueFull = ProxyFailure(status: .serviceUnavailable, reason: "every replica is busy and too many requests are waiting")
    static func queueTimeout(_ wait: Duration) -> ProxyFailure {
        ProxyFailure(status: .serviceUnavailable, reason: "no replica was free within \(ConnectionGuard.seconds(wait))")
    }
    static func refused(_ cause: String) -> ProxyFailure {
        ProxyFailure(status: .badGateway, reason: "the replica could not be reached (\(cause))")
    }
    static let reset = ProxyFailure(status: .badGateway, reason: "the replica closed the connection before it answered")
    static let malformed = ProxyFailure(status: .badGateway, reason: "the replica's answer is not valid HTTP/1.1")
    static func timeout(_ limit: Duration) -> ProxyFailure {
        ProxyFailure(status: .gatewayTimeout, reason: "the replica did not answer within \(ConnectionGuard.seconds(limit))")
    }
}
