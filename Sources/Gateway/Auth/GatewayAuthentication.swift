import Foundation
import HTTPTypes
import NIOCore

/// Who may call the gateway's Lambda Invoke API.
///
/// With `.sigV4`, every request under `/2015-03-31/` must carry a valid AWS
/// Signature Version 4 for the service `lambda` (any region), checked before
/// the request is parsed further or anything is invoked, on both the event
/// loop's fast path and Hummingbird's. http routes stay public, as an API
/// Gateway route without an authorizer or a function URL with `AuthType: NONE`
/// is: they are the workloads' own web endpoints.
public enum GatewayAuthentication: Sendable {
    /// Anyone who can connect (the gateway should then listen on loopback only).
    case none
    case sigV4(SigV4Verifier)

    /// The header check of an Invoke API request: nil when no check applies,
    /// else the pending body check or the refusal.
    func authorize(method: String, path: String, query: String?, authority: String?, headers: HTTPFields,
                   now: Date = Date()) -> Result<SigV4PendingCheck, LambdaAPIError>? {
        guard case .sigV4(let verifier) = self else { return nil }
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(headers.count + 1)
        if let authority { fields.append((name: "host", value: authority)) }
        for field in headers { fields.append((name: field.name.canonicalName, value: field.value)) }
        let request = SigV4Request(method: method, path: path, query: query ?? "", headers: fields)
        return verifier.authorize(request, nowEpochSeconds: Int64(now.timeIntervalSince1970.rounded(.down)))
            .mapError(LambdaAPIError.init(authentication:))
    }
}

extension SigV4PendingCheck {
    /// The body check, as the gateway's refusal.
    func verify(body: ByteBuffer) -> Result<String, LambdaAPIError> {
        body.withUnsafeReadableBytes { verify(payloadSHA256: Self.payloadHash($0)) }
            .mapError(LambdaAPIError.init(authentication:))
    }
}

extension LambdaAPIError {
    /// AWS's 403 for a request that is not authenticated; botocore reads the
    /// code from `x-amzn-ErrorType` and the message from the body.
    init(authentication failure: SigV4Failure) {
        let errorType = switch failure.kind {
        case .missing: "MissingAuthenticationTokenException"
        case .incomplete: "IncompleteSignatureException"
        case .unknownKey: "UnrecognizedClientException"
        case .expired, .mismatch: "InvalidSignatureException"
        }
        self.init(status: 403, errorType: errorType, message: failure.message)
    }
}
