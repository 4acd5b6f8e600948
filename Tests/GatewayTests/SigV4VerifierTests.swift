import Foundation
import Testing
@testable import Gateway

/// The SigV4 verifier against AWS's published Signature Version 4 test suite
/// (key AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service"), and
/// its refusals.
@Suite("SigV4 verifier (pure)")
struct SigV4VerifierTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let verifier = SigV4Verifier(keys: ["AKIDEXAMPLE": secret], service: "service")
    static let now = SigV4Time.parse("20150830T123600Z")!

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var path: String
        var query: String = ""
        var headers: [String: String] = [:]
        var body: String = ""
        var signedHeaders: String = "host;x-amz-date"
        var signature: String
        var testDescription: String { name }
    }

    /// From the suite's `.authz` files.
    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", method: "GET", path: "/",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(name: "get-vanilla-query-order-key-case", method: "GET", path: "/", query: "Param2=value2&Param1=value1",
               signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(name: "post-vanilla", method: "POST", path: "/",
               signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(name: "post-x-www-form-urlencoded", method: "POST", path: "/",
               headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "Param1=value1",
               signedHeaders: "content-type;host;x-amz-date",
               signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Vector(name: "get-header-value-trim", method: "GET", path: "/",
               headers: ["My-Header1": " value1", "My-Header2": " \"a   b   c\""],
               signedHeaders: "host;my-header1;my-header2;x-amz-date",
               signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(name: "get-utf8", method: "GET", path: "/ሴ",
               signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(name: "normalize-path/get-relative", method: "GET", path: "/example/..",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ]

    static func request(_ vector: Vector, authorization: String? = nil, date: String = "20150830T123600Z") -> SigV4Request {
        var headers: [(name: String, value: String)] = [("Host", "example.amazonaws.com"), ("X-Amz-Date", date)]
        for (name, value) in vector.headers { headers.append((name, value)) }
        let auth = authorization ?? "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)"
        headers.append(("Authorization", auth))
        return SigV4Request(method: vector.method, path: vector.path, query: vector.query, headers: headers)
    }

    @Test("AWS's published test vectors verify", arguments: vectors)
    func publishedVectors(vector: Vector) {
        let result = Self.verifier.verify(Self.request(vector), body: Array(vector.body.utf8), nowEpochSeconds: Self.now)
        #expect(result == .success("AKIDEXAMPLE"))
    }

    @Test("one changed byte anywhere fails: signature, body, path, query, a signed header's value")
    func tampering() throws {
        let post = Self.vectors[3]
        func verify(_ vector: Vector) -> SigV4Failure.Kind? {
            if case .failure(let failure) = Self.verifier.verify(Self.request(vector), body: Array(vector.body.utf8),
                                                                 nowEpochSeconds: Self.now) { return failure.kind }
            return nil
        }
        var v = post; v.signature = String(v.signature.dropLast()) + "0"
        #expect(verify(v) == .mismatch)
        v = post; v.body = "Param1=value2"
        #expect(verify(v) == .mismatch)
        v = post; v.path = "/other"
        #expect(verify(v) == .mismatch)
        v = post; v.query = "a=b"
        #expect(verify(v) == .mismatch)
        v = post; v.headers["Content-Type"] = "application/json"
        #expect(verify(v) == .mismatch)
    }

    @Test("a wrong secret is a mismatch with AWS's message; an unknown key is unrecognized")
    func wrongKeys() {
        let vector = Self.vectors[0]
        let wrongSecret = SigV4Verifier(keys: ["AKIDEXAMPLE": "not-the-secret"], service: "service")
        #expect(wrongSecret.verify(Self.request(vector), body: [], nowEpochSeconds: Self.now)
            == .failure(SigV4Failure(.mismatch, SigV4Failure.mismatchMessage)))
        let otherKey = SigV4Verifier(keys: ["AKIDOTHER": Self.secret], service: "service")
        guard case .failure(let failure) = otherKey.verify(Self.request(vector), body: [], nowEpochSeconds: Self.now) else {
            Issue.record("an unknown key passed"); return
        }
        #expect(failure.kind == .unknownKey)
        #expect(failure.message == "The security token included in the request is invalid.")
    }

    @Test("the date must be within 15 minutes of now, either way, with AWS's messages")
    func skew() {
        let vector = Self.vectors[0]
        let request = Self.request(vector)
        #expect(Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now + 14 * 60 + 59) == .success("AKIDEXAMPLE"))
        #expect(Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now - 15 * 60) == .success("AKIDEXAMPLE"))
        #expect(Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now + 15 * 60 + 1) == .failure(SigV4Failure(
            .expired, "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)")))
        #expect(Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now - 16 * 60) == .failure(SigV4Failure(
            .expired, "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)")))
    }

    @Test("missing or malformed authentication", arguments: [
        ("", SigV4Failure.Kind.missing),
        ("Bearer abc", .incomplete),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date", .incomplete),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, Signature=00", .incomplete),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", .mismatch),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", .mismatch),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/US EAST/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", .mismatch),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date, Signature=00", .incomplete),
    ])
    func malformed(authorization: String, kind: SigV4Failure.Kind) {
        var request = Self.request(Self.vectors[0], authorization: authorization)
        if authorization.isEmpty { request.headers.removeAll { $0.name == "authorization" } }
        guard case .failure(let failure) = Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now) else {
            Issue.record("accepted: \(authorization)"); return
        }
        #expect(failure.kind == kind, "\(failure)")
    }

    @Test("an X-Amz-Content-Sha256 header must be the body's hash; a session token is not accepted")
    func declaredHashAndToken() {
        let vector = Self.vectors[2]
        var request = Self.request(vector)
        request.headers.append((name: "x-amz-content-sha256", value: String(repeating: "0", count: 64)))
        #expect(Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now) == .failure(SigV4Failure(
            .mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")))
        request = Self.request(vector)
        request.headers.append((name: "x-amz-security-token", value: "token"))
        guard case .failure(let failure) = Self.verifier.verify(request, body: [], nowEpochSeconds: Self.now) else {
            Issue.record("a session token passed"); return
        }
        #expect(failure.kind == .unknownKey)
    }

    @Test("canonical pieces: path double-encoding, query order and encoding, header folding")
    func canonicalPieces() {
        #expect(SigV4Canonical.uri("/2015-03-31/functions/arn%3Aaws%3Alambda/invocations")
            == "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations")
        #expect(SigV4Canonical.uri("//a/./b/../c/") == "/a/c/")
        #expect(SigV4Canonical.uri("") == "/")
        #expect(SigV4Canonical.query("b=2&a=%2F&a=1&c") == "a=%2F&a=1&b=2&c=")
        #expect(SigV4Canonical.query("Qualifier=%24LATEST") == "Qualifier=%24LATEST")
        #expect(SigV4Canonical.headerValue("  a \t  b  ") == "a b")
    }

    @Test("X-Amz-Date parses and formats both ways")
    func time() {
        #expect(SigV4Time.parse("19700101T000000Z") == 0)
        #expect(SigV4Time.format(Self.now) == "20150830T123600Z")
        #expect(SigV4Time.format(SigV4Time.parse("20240229T235959Z")!) == "20240229T235959Z")
        #expect(SigV4Time.parse("2015-08-30T12:36:00Z") == nil)
        #expect(SigV4Time.parse("20151330T123600Z") == nil)
    }
}

@Suite("SigV4 key file and exposure checks")
struct SigV4KeyFileTests {
    @Test("lines of ACCESS_KEY_ID SECRET; comments and blank lines ignored")
    func parses() throws {
        let keys = try SigV4KeyFile.parse("# ci\nAKID1 secret/one\n\n  AKID2\tsecret+two  \n", path: "keys")
        #expect(keys == ["AKID1": "secret/one", "AKID2": "secret+two"])
    }

    @Test("problems name the file and line", arguments: [
        ("AKID1\n", "keys:1: expected `ACCESS_KEY_ID SECRET_ACCESS_KEY`, found 1 field"),
        ("AKID1 a b\n", "keys:1: expected `ACCESS_KEY_ID SECRET_ACCESS_KEY`, found 3 fields"),
        ("A 1\nA 2\n", "keys:2: access key id A appears twice"),
        ("A/B s\n", "keys:1: an access key id is 1 to 128 letters, digits, `_`, `-` or `.`, found \"A/B\""),
        ("# nothing\n", "keys: no keys (one a line: ACCESS_KEY_ID SECRET_ACCESS_KEY)"),
    ])
    func problems(text: String, message: String) {
        #expect(throws: GatewayError(message)) { try SigV4KeyFile.parse(text, path: "keys") }
    }

    @Test("a key file others can read is refused with the fix; mode 600 and 400 are accepted")
    func permissions() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-keys-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "AKID secret\n".write(toFile: path, atomically: true, encoding: .utf8)
        for mode in [0o644, 0o640, 0o604] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            do {
                _ = try SigV4KeyFile.load(path: path)
                Issue.record("mode \(String(mode, radix: 8)) was accepted")
            } catch {
                #expect(error.message.contains("chmod 600 \(path)"), "\(error)")
            }
        }
        for mode in [0o600, 0o400] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            #expect(try SigV4KeyFile.load(path: path) == ["AKID": "secret"])
        }
        #expect(throws: GatewayError.self) { try SigV4KeyFile.load(path: path + ".missing") }
    }

    @Test("loopback addresses", arguments: [
        ("127.0.0.1", true), ("127.1.2.3", true), ("localhost", true), ("LOCALHOST", true), ("::1", true), ("[::1]", true),
        ("0:0:0:0:0:0:0:1", true), ("::ffff:127.0.0.1", true),
        ("0.0.0.0", false), ("::", false), ("192.168.1.10", false), ("128.0.0.1", false), ("example.com", false),
        ("127.0.0.1.example.com", false), ("::2", false),
    ])
    func loopback(host: String, expected: Bool) {
        #expect(LoopbackAddress.isLoopback(host) == expected)
    }
}
