import Foundation
import NIOCore
import TestSupport
import Testing
@testable import FunctionMode
@testable import Gateway

/// The real AWS CLI and boto3 against a live gateway (port 0) with a fake
/// invoker: the Invoke API's contract as AWS's own clients read it.
@Suite("AWS clients against a live gateway (fake functions)", .serialized)
struct AWSClientTests {
    static let invoker = FakeInvoker(functions: ["echo", "broken", "busy"], log: "START RequestId: r\nhello from the log\nEND RequestId: r\n") { name, payload in
        switch name {
        case "broken":
            .functionError(RuntimeErrorReport(errorType: "Boom", errorMessage: "it broke",
                                              body: Array(#"{"errorMessage":"it broke","errorType":"Boom"}"#.utf8)))
        case "busy": .rejected(.reservedConcurrencyExceeded(limit: 1))
        default: .response(payload)
        }
    }

    @Test("the server reports the port it bound, and stops when cancelled")
    func boundPort() async throws {
        let server = try GatewayServer(invoker: Self.invoker, configuration: GatewayConfiguration(port: 0))
        #expect(server.port == nil)
        let running = Task { try await server.run() }
        let port = try await server.listeningPort()
        #expect(port > 0)
        #expect(server.port == port)
        running.cancel()
        _ = try? await running.value
        await #expect(throws: GatewayError.self) { _ = try await server.listeningPort() }
    }

    @Test("aws lambda invoke: result, function error, Tail, Event, DryRun, unknown function, throttle",
          .enabled(if: AWSTools.shouldRunCLI))
    func awsCLI() async throws {
        try await withLiveGateway(Self.invoker) { _, port in
            let out = AWSTools.temporaryFile("out.json")
            defer { try? FileManager.default.removeItem(atPath: out) }

            let ok = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: #"{"echo":1}"#, outfile: out)
            #expect(ok.status == 0, "\(ok.stderr)")
            let okSummary = try #require(AWSTools.parse(ok.stdout), "\(ok.stdout)")
            #expect(okSummary["StatusCode"] as? Int == 200)
            #expect(okSummary["ExecutedVersion"] as? String == "$LATEST")
            #expect(okSummary["FunctionError"] == nil)
            #expect(try String(contentsOfFile: out, encoding: .utf8) == #"{"echo":1}"#)

            let failed = try await AWSTools.lambdaInvoke(port: port, function: "broken", payload: "{}", outfile: out)
            #expect(failed.status == 0, "\(failed.stderr)")
            #expect(AWSTools.parse(failed.stdout)?["FunctionError"] as? String == "Unhandled")
            #expect(try String(contentsOfFile: out, encoding: .utf8).contains("it broke"))

            let tail = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: "{}", outfile: out,
                                                       extra: ["--log-type", "Tail"])
            let logResult = try #require(AWSTools.parse(tail.stdout)?["LogResult"] as? String, "\(tail.stdout) \(tail.stderr)")
            #expect(String(decoding: Data(base64Encoded: logResult) ?? Data(), as: UTF8.self).contains("hello from the log"))

            let arn = try await AWSTools.lambdaInvoke(
                port: port, function: "arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST", payload: "{}", outfile: out)
            #expect(arn.status == 0, "\(arn.stderr)")

            let event = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: #"{"later":true}"#,
                                                        outfile: out, extra: ["--invocation-type", "Event"])
            #expect(AWSTools.parse(event.stdout)?["StatusCode"] as? Int == 202, "\(event.stderr)")

            let dryRun = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: nil, outfile: out,
                                                         extra: ["--invocation-type", "DryRun"])
            #expect(AWSTools.parse(dryRun.stdout)?["StatusCode"] as? Int == 204, "\(dryRun.stderr)")

            let missing = try await AWSTools.lambdaInvoke(port: port, function: "nope", payload: "{}", outfile: out)
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("ResourceNotFoundException"), "\(missing.stderr)")
            #expect(missing.stderr.contains("Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"))

            let qualified = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: "{}", outfile: out,
                                                            extra: ["--qualifier", "prod"])
            #expect(qualified.stderr.contains("ResourceNotFoundException"), "\(qualified.stderr)")
            #expect(qualified.stderr.contains("function:echo:prod"))

            let busy = try await AWSTools.lambdaInvoke(port: port, function: "busy", payload: "{}", outfile: out)
            #expect(busy.stderr.contains("TooManyRequestsException"), "\(busy.stderr)")
            #expect(busy.stderr.contains("Rate Exceeded."))

            let notJSON = try await AWSTools.lambdaInvoke(port: port, function: "echo", payload: "not json", outfile: out)
            #expect(notJSON.stderr.contains("InvalidRequestContentException"), "\(notJSON.stderr)")
        }
    }

    static let boto3Script = #"""
import base64, json, sys
import boto3
from botocore.config import Config

client = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(retries={"max_attempts": 0, "mode": "standard"}))
out = {}

def call(key, **kwargs):
    try:
        r = client.invoke(**kwargs)
        out[key] = {"status": r["StatusCode"], "payload": r["Payload"].read().decode("utf-8", "replace"),
                    "version": r.get("ExecutedVersion"), "functionError": r.get("FunctionError"),
                    "log": base64.b64decode(r["LogResult"]).decode() if "LogResult" in r else None}
    except client.exceptions.ClientError as e:
        out[key] = {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                    "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                    "reason": e.response.get("Reason"),
                    "requestId": e.response["ResponseMetadata"].get("RequestId")}

call("ok", FunctionName="echo", Payload=b'{"echo":1}')
call("tail", FunctionName="echo", Payload=b"{}", LogType="Tail")
call("failed", FunctionName="broken", Payload=b"{}")
call("event", FunctionName="echo", Payload=b'{"n":1}', InvocationType="Event")
call("dryRun", FunctionName="echo", InvocationType="DryRun")
call("missing", FunctionName="nope", Payload=b"{}")
call("partialArn", FunctionName="000000000000:function:echo", Payload=b'"x"')
call("busy", FunctionName="busy", Payload=b"{}")
call("notJSON", FunctionName="echo", Payload=b"{nope")
call("tooLarge", FunctionName="echo", Payload=b"[" + b" " * 6291456 + b"]")
call("context", FunctionName="echo", Payload=b"{}",
     ClientContext=base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode())
print(json.dumps(out))
"""#

    @Test("boto3: the same contract, with modeled exceptions", .enabled(if: AWSTools.shouldRunBoto3))
    func boto3() async throws {
        try await withLiveGateway(Self.invoker) { _, port in
            let output = try await AWSTools.python(Self.boto3Script, ["http://127.0.0.1:\(port)"])
            #expect(output.status == 0, "\(output.stderr)")
            let results = try #require(AWSTools.parse(output.stdout), "\(output.stdout)\n\(output.stderr)")
            func result(_ key: String) -> [String: Any] { results[key] as? [String: Any] ?? [:] }

            #expect(result("ok")["status"] as? Int == 200)
            #expect(result("ok")["payload"] as? String == #"{"echo":1}"#)
            #expect(result("ok")["version"] as? String == "$LATEST")
            #expect((result("tail")["log"] as? String)?.contains("hello from the log") == true)
            #expect(result("failed")["functionError"] as? String == "Unhandled")
            #expect(result("event")["status"] as? Int == 202)
            #expect(result("dryRun")["status"] as? Int == 204)
            #expect(result("missing")["error"] as? String == "ResourceNotFoundException")
            #expect(result("missing")["status"] as? Int == 404)
            #expect(result("missing")["message"] as? String == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope")
            #expect((result("missing")["requestId"] as? String)?.isEmpty == false)
            #expect(result("partialArn")["payload"] as? String == #""x""#)
            #expect(result("busy")["error"] as? String == "TooManyRequestsException")
            #expect(result("busy")["status"] as? Int == 429)
            #expect(result("busy")["reason"] as? String == "ReservedFunctionConcurrentInvocationLimitExceeded")
            #expect(result("busy")["message"] as? String == "Rate Exceeded.")
            #expect(result("notJSON")["error"] as? String == "InvalidRequestContentException")
            #expect(result("tooLarge")["error"] as? String == "RequestTooLargeException")
            #expect(result("tooLarge")["status"] as? Int == 413)
            #expect(result("context")["status"] as? Int == 200)
        }
        #expect(Self.invoker.calls.contains { $0.clientContext == #"{"custom": {"k": "v"}}"# })
    }
}
