import Crypto

/// A request as Signature Version 4 sees it: method, the path and query as
/// received (still percent-encoded), and every header with a lower-case name
/// (`host` included: HTTPTypes keeps it as the authority).
public struct SigV4Request: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, query: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
    }

    func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
    func value(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// Why a request was not authenticated, with the message AWS gives.
public struct SigV4Failure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// No `Authorization` header at all.
        case missing
        /// An `Authorization` header that is not a whole SigV4 one (or no `X-Amz-Date`).
        case incomplete
        /// A key id (or session token) the gateway does not know.
        case unknownKey
        /// The date is more than the allowed skew away from now.
        case expired
        /// The signature (or the payload hash, or the scope) does not match.
        case mismatch
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }

    static let mismatchMessage = "The request signature we calculated does not match the signature you provided. "
        + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
}

/// Verifies AWS Signature Version 4 (`AWS4-HMAC-SHA256` in the `Authorization`
/// header) against a set of keys. Pure: the time is passed in.
///
/// Checked, in order: the header's shape; `X-Amz-Date`; the key id; the
/// credential scope (`DATE/REGION/SERVICE/aws4_request`, its date the request's,
/// any well-formed region, the verifier's service); `host` and `x-amz-date`
/// among the signed headers; the date within ``maxSkew`` of now; then — once
/// the body is known — the payload hash (`X-Amz-Content-Sha256` when sent,
/// which must be the body's; else the body's SHA-256, as the SDKs sign Lambda
/// calls) and the signature over the canonical request.
public struct SigV4Verifier: Sendable {
    /// Secret access key by access key id.
    public let keys: [String: String]
    /// The service the credential scope must name (`lambda`).
    public let service: String
    /// How far the request's date may be from now (AWS: 15 minutes).
    public let maxSkew: Int64

    public static let algorithm = "AWS4-HMAC-SHA256"

    public init(keys: [String: String], service: String = "lambda", maxSkewSeconds: Int64 = 15 * 60) {
        self.keys = keys
        self.service = service
        self.maxSkew = maxSkewSeconds
    }

    /// Everything that can be checked before the body is read; on success, the
    /// check that remains once the body is known.
    public func authorize(_ request: SigV4Request, nowEpochSeconds now: Int64) -> Result<SigV4PendingCheck, SigV4Failure> {
        guard let authorization = request.value("authorization") else {
            if request.query.contains("X-Amz-Signature=") || request.query.contains("X-Amz-Algorithm=") {
                return .failure(SigV4Failure(.incomplete, "tandem accepts Signature Version 4 in the Authorization header only, not in the query string."))
            }
            return .failure(SigV4Failure(.missing, "Missing Authentication Token"))
        }
        let fields: AuthorizationFields
        switch AuthorizationFields.parse(authorization) {
        case .success(let parsed): fields = parsed
        case .failure(let failure): return .failure(failure)
        }
        guard let amzDate = request.value("x-amz-date").map({ $0.trimmingSpaces }) else {
            return .failure(SigV4Failure(.incomplete, "Authorization header requires existence of a 'X-Amz-Date' header. Authorization=\(authorization)"))
        }
        guard let requestTime = SigV4Time.parse(amzDate) else {
            return .failure(SigV4Failure(.incomplete, "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z', found '\(amzDate)'."))
        }
        let scope = fields.credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, !scope[0].isEmpty else {
            return .failure(SigV4Failure(.incomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '\(fields.credential)'"))
        }
        let (keyID, date, region, scopeService, terminal) = (scope[0], scope[1], scope[2], scope[3], scope[4])
        guard let secret = keys[keyID], request.value("x-amz-security-token") == nil else {
            return .failure(SigV4Failure(.unknownKey, "The security token included in the request is invalid."))
        }
        guard terminal == "aws4_request" else {
            return .failure(SigV4Failure(.mismatch, "Credential should be scoped with a valid terminator: 'aws4_request', not '\(terminal)'."))
        }
        guard date == String(amzDate.prefix(8)) else {
            return .failure(SigV4Failure(.mismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(date)' != '\(amzDate.prefix(8))', from '\(amzDate)'."))
        }
        guard !region.isEmpty, region.utf8.allSatisfy({ $0.isLowerAlphanumeric || $0 == UInt8(ascii: "-") }) else {
            return .failure(SigV4Failure(.mismatch, "Credential should be scoped to a valid region, not '\(region)'."))
        }
        guard scopeService == service else {
            return .failure(SigV4Failure(.mismatch, "Credential should be scoped to correct service: '\(service)'."))
        }
        let signedHeaders = fields.signedHeaders.split(separator: ";").map { $0.lowercased() }
        guard signedHeaders.contains("host") else {
            return .failure(SigV4Failure(.incomplete, "'Host' must be a signed header."))
        }
        guard signedHeaders.contains("x-amz-date") else {
            return .failure(SigV4Failure(.incomplete, "'X-Amz-Date' must be a signed header."))
        }
        if requestTime < now - maxSkew {
            return .failure(SigV4Failure(.expired, "Signature expired: \(amzDate) is now earlier than "
                + "\(SigV4Time.format(now - maxSkew)) (\(SigV4Time.format(now)) - \(maxSkew / 60) min.)"))
        }
        if requestTime > now + maxSkew {
            return .failure(SigV4Failure(.expired, "Signature not yet current: \(amzDate) is still later than "
                + "\(SigV4Time.format(now + maxSkew)) (\(SigV4Time.format(now)) + \(maxSkew / 60) min.)"))
        }
        var canonical = request.method + "\n" + SigV4Canonical.uri(request.path) + "\n" + SigV4Canonical.query(request.query) + "\n"
        for name in signedHeaders {
            canonical += name + ":" + request.values(name).map(SigV4Canonical.headerValue).joined(separator: ",") + "\n"
        }
        canonical += "\n" + signedHeaders.joined(separator: ";") + "\n"
        return .success(SigV4PendingCheck(
            accessKeyID: keyID, canonicalRequestPrefix: canonical, amzDate: amzDate,
            scope: "\(date)/\(region)/\(service)/aws4_request",
            signingKey: SigV4Canonical.signingKey(secret: secret, date: date, region: region, service: service),
            signature: fields.signature,
            declaredPayloadHash: request.value("x-amz-content-sha256").map { $0.trimmingSpaces }))
    }

    /// The whole check of a request whose body is known.
    public func verify(_ request: SigV4Request, body: some Sequence<UInt8>, nowEpochSeconds now: Int64) -> Result<String, SigV4Failure> {
        authorize(request, nowEpochSeconds: now).flatMap { $0.verify(payloadSHA256: SigV4Canonical.hex(SHA256.hash(data: Array(body)))) }
    }
}

/// What remains of a SigV4 check once the headers passed: the payload hash and the signature.
public struct SigV4PendingCheck: Sendable {
    /// The key id that signed the request.
    public let accessKeyID: String
    let canonicalRequestPrefix: String
    let amzDate: String
    let scope: String
    let signingKey: [UInt8]
    let signature: String
    let declaredPayloadHash: String?

    /// Checks the body's SHA-256 (lower-case hex) and the signature; gives the key id on success.
    public func verify(payloadSHA256: String) -> Result<String, SigV4Failure> {
        if let declaredPayloadHash, declaredPayloadHash != payloadSHA256 {
            return .failure(SigV4Failure(.mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed."))
        }
        let canonicalRequest = canonicalRequestPrefix + payloadSHA256
        let stringToSign = "\(SigV4Verifier.algorithm)\n\(amzDate)\n\(scope)\n\(SigV4Canonical.sha256Hex(canonicalRequest))"
        let expected = SigV4Canonical.hex(SigV4Canonical.hmac(signingKey, stringToSign))
        guard SigV4Canonical.constantTimeEqual(expected, signature.lowercased()) else {
            return .failure(SigV4Failure(.mismatch, SigV4Failure.mismatchMessage))
        }
        return .success(accessKeyID)
    }

    /// The payload hash of a body, as ``verify(payloadSHA256:)`` takes it.
    public static func payloadHash(_ body: UnsafeRawBufferPointer) -> String {
        SigV4Canonical.hex(SHA256.hash(data: body))
    }
}

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct AuthorizationFields: Equatable {
    var credential: String
    var signedHeaders: String
    var signature: String

    static func parse(_ header: String) -> Result<AuthorizationFields, SigV4Failure> {
        let text = header.trimmingSpaces
        guard text.hasPrefix(SigV4Verifier.algorithm + " ") else {
            let algorithm = text.split(separator: " ").first.map(String.init) ?? ""
            return .failure(SigV4Failure(.incomplete, "Unsupported Authorization scheme '\(algorithm)': tandem accepts \(SigV4Verifier.algorithm) (Signature Version 4) only."))
        }
        var values: [String: String] = [:]
        for part in text.dropFirst(SigV4Verifier.algorithm.count + 1).split(separator: ",") {
            let item = String(part).trimmingSpaces
            guard let equals = item.firstIndex(of: "=") else { continue }
            values[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        var missing: [String] = []
        for name in ["Credential", "Signature", "SignedHeaders"] where (values[name] ?? "").isEmpty {
            missing.append("Authorization header requires '\(name)' parameter.")
        }
        guard missing.isEmpty, let credential = values["Credential"], let signedHeaders = values["SignedHeaders"],
              let signature = values["Signature"]
        else {
            return .failure(SigV4Failure(.incomplete, missing.joined(separator: " ") + " Authorization=\(header)"))
        }
        return .success(AuthorizationFields(credential: credential, signedHeaders: signedHeaders, signature: signature))
    }
}

/// `yyyyMMdd'T'HHmmss'Z'` ⇄ seconds since 1970 (UTC), without a calendar object.
enum SigV4Time {
    static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return CivilDate.days(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    static func format(_ epochSeconds: Int64) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = epochSeconds - days * 86_400
        let (year, month, day) = CivilDate.fromDays(days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay % 3600 / 60))\(two(secondOfDay % 60))Z"
    }

}

extension UInt8 {
    fileprivate var isLowerAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
