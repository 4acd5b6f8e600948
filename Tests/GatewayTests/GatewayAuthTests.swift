import Foundation
import NIOCore
import TestSupport
import Testing
@testable import FunctionMode
@testable import Gateway

/// `--auth sigv4` on a live gateway, driven by AWS's own clients (the AWS CLI
/// and boto3 sign every call) and by unsigned and replayed raw requests, on
/// both the event-loop fast path and Hummingbird's path.
@Suite("SigV4 authentication on a live gateway", .serialized)
struct GatewayAuthTests {
    static let key = (id: "AKIDTANDEMTEST", secret: "tandem-test-secret/0123456789")
    static let configuration = GatewayConfiguration(
        port: 0, authentication: .sigV4(SigV4Verifier(keys: [key.id: key.secret])))
    static let routes = [GatewayRoute(path: "/public", target: .function("echo"))]

    @Test("aws lambda invoke: the right key passes; a wrong secret gets 403 InvalidSignatureException",
          .enabled(if: AWSTools.shouldRunCLI))
    func awsCLI() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker, configuration: Self.configuration) { _, port in
            let out = AWSTools.temporaryFile("out.json")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let ok = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: #"{"signed":1}"#, outfile: out,
                                                     credentials: Self.key)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(try String(contentsOfFile: out, encoding: .utf8) == #"{"signed":1}"#)

            let wrong = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: "{}", outfile: out,
                                                        credentials: (Self.key.id, "not-the-secret"))
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("(InvalidSignatureException)"), "\(wrong.stderr)")
            #expect(wrong.stderr.contains("The request signature we calculated does not match"))
        }
        #expect(invoker.callbackCalls + invoker.asyncCalls == 1, "only the signed call reached the function")
    }

    static let boto3Script = #"""
import datetime, json, sys
from unittest import mock
import boto3
from botocore.config import Config

endpoint, key_id, secret = sys.argv[1], sys.argv[2], sys.argv[3]
def client(key, sec):
    return boto3.client("lambda", endpoint_url=endpoint, region_name="eu-west-3",
                        aws_access_key_id=key, aws_secret_access_key=sec,
                        config=Config(retries={"max_attempts": 0, "mode": "standard"}))
out = {}
def call(name, c, **kwargs):
    try:
        r = c.invoke(FunctionName="echo", **kwargs)
        out[name] = {"status": r["StatusCode"], "payload": r["Payload"].read().decode()}
    except c.exceptions.ClientError as e:
        out[name] = {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                     "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

good = client(key_id, secret)
call("fast", good, Payload=b'{"path":"fast"}')
call("hummingbird", good, Payload=b'{"path":"hb"}', LogType="Tail")
call("arn", good, Payload=b'{"q":1}', Qualifier="$LATEST")
call("wrongSecretFast", client(key_id, "wrong"), Payload=b"{}")
call("wrongSecretHummingbird", client(key_id, "wrong"), Payload=b"{}", LogType="Tail")
call("unknownKey", client("AKIDNOBODY", secret), Payload=b"{}")
stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
    call("stale", good, Payload=b"{}")
print(json.dumps(out))
"""#

    @Test("boto3: signed calls pass on both paths; wrong secret, unknown key and a stale date get the 403 codes botocore reports",
          .enabled(if: AWSTools.shouldRunBoto3))
    func boto3() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker, configuration: Self.configuration) { _, port in
            let output = try await AWSTools.python(Self.boto3Script, ["http://127.0.0.1:\(port)", Self.key.id, Self.key.secret])
            #expect(output.status == 0, "\(output.stderr)")
            let results = try #require(AWSTools.parse(output.stdout), "\(output.stdout)\n\(output.stderr)")
            func result(_ key: String) -> [String: Any] { results[key] as? [String: Any] ?? [:] }
            #expect(result("fast")["payload"] as? String == #"{"path":"fast"}"#)
            #expect(result("hummingbird")["payload"] as? String == #"{"path":"hb"}"#)
            #expect(result("arn")["status"] as? Int == 200, "a query string is signed too: \(result("arn"))")
            for name in ["wrongSecretFast", "wrongSecretHummingbird"] {
                #expect(result(name)["error"] as? String == "InvalidSignatureException", "\(name): \(result(name))")
                #expect(result(name)["status"] as? Int == 403)
            }
            #expect(result("unknownKey")["error"] as? String == "UnrecognizedClientException")
            #expect(result("unknownKey")["message"] as? String == "The security token included in the request is invalid.")
            #expect(result("stale")["error"] as? String == "InvalidSignatureException")
            #expect((result("stale")["message"] as? String)?.hasPrefix("Signature expired: ") == true, "\(result("stale"))")
        }
        #expect(invoker.callbackCalls == 2, "fast and arn on the event loop")
        #expect(invoker.asyncCalls == 1, "Tail through Hummingbird")
    }

    /// Signs an Invoke request with botocore's own signer, `minutes` from now, and prints its headers.
    static let signScript = #"""
import datetime, json, sys
from unittest import mock
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key_id, secret, minutes, body = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
request = AWSRequest(method="POST", url=url, data=body.encode(), headers={"Content-Type": "application/json"})
when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
with mock.patch("botocore.auth.get_current_datetime", return_value=when):
    SigV4Auth(Credentials(key_id, secret), "lambda", "us-east-1").add_auth(request)
print(json.dumps(dict(request.headers.items())))
"""#

    @Test("unsigned requests and a replay signed 20 minutes ago get 403 on both paths; nothing reaches a function; routes stay public",
          .enabled(if: AWSTools.shouldRunBoto3))
    func unsignedAndReplayed() async throws {
        let invoker = CallbackCountingInvoker()
        try await withLiveGateway(invoker, routes: Self.routes, configuration: Self.configuration) { _, port in
            let connection = try RawConnection(port: port)
            // Unsigned, as curl sends it: fast path, Hummingbird's path, and an unknown function (403, not 404).
            for request in [InvokeFastPathTests.post("{}"), InvokeFastPathTests.chunkedPost("{}"),
                            InvokeFastPathTests.post("{}", path: "/2015-03-31/functions/nope/invocations")] {
                try connection.send(request)
                let response = try await connection.response()
                #expect(response.status == 403)
                #expect(response.header("x-amzn-errortype") == "MissingAuthenticationTokenException")
                #expect(json(response.body)?["message"] as? String == "Missing Authentication Token")
                #expect(json(response.body)?["Type"] as? String == "User")
            }
            if let curl = AWSTools.which("curl") {
                let output = try await AWSTools.run(curl, ["-s", "-i", "-X", "POST", "-d", "{}",
                                                           "http://127.0.0.1:\(port)\(InvokeFastPathTests.invoke)"])
                #expect(output.stdout.hasPrefix("HTTP/1.1 403"), "\(output.stdout)")
                #expect(output.stdout.lowercased().contains("x-amzn-errortype: missingauthenticationtokenexception"))
            }

            let url = "http://127.0.0.1:\(port)\(InvokeFastPathTests.invoke)"
            for (minutes, expected) in [(0, 200), (-20, 403)] {
                let signed = try await AWSTools.python(Self.signScript, [url, Self.key.id, Self.key.secret, "\(minutes)", #"{"r":1}"#])
                let headers = try #require(AWSTools.parse(signed.stdout) as? [String: String], "\(signed.stdout)\(signed.stderr)")
                // As signed (fast path), and with an unsigned Tail header that sends it to Hummingbird.
                for extra in [[:], ["X-Amz-Log-Type": "Tail"]] {
                    try connection.send(Self.request(body: #"{"r":1}"#, port: port, headers: headers.merging(extra) { $1 }))
                    let response = try await connection.response()
                    #expect(response.status == expected, "\(minutes) min, \(extra): \(response.body)")
                    if expected == 403 {
                        #expect(response.header("x-amzn-errortype") == "InvalidSignatureException")
                        #expect((json(response.body)?["message"] as? String)?.hasPrefix("Signature expired: ") == true)
                    }
                }
            }

            try connection.send(Array("GET /public HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(try await connection.response().status == 200, "an http route needs no signature")
        }
        #expect(invoker.callbackCalls == 2, "the fresh signature on the fast path, and the route")
        #expect(invoker.asyncCalls == 1, "the fresh signature through Hummingbird")
    }

    /// An Invoke request with exactly these headers (plus Host, as signed, and the length).
    static func request(body: String, port: Int, headers: [String: String]) -> [UInt8] {
        var text = "POST \(InvokeFastPathTests.invoke) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return Array(text.utf8)
    }
}
