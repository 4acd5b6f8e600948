import Engine
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import FunctionMode
@testable import Gateway

/// The gateway in front of a real FunctionHost on the engine, with the
/// echo-function image, driven by the real aws CLI, boto3 and HTTP requests.
@Suite("Gateway end to end against the engine", .enabled(if: EngineAvailability.shouldRun), .serialized)
struct GatewayEndToEndTests {
    @Test("http routes to an HTTP-server function: the request as a proxy sends it, the answer as the server gave it")
    func httpContractRoutes() async throws {
        try await EndToEnd.withHost { host in
            try await TestImages.shared.folder("images/http-echo", tag: "tandem/http-echo:latest", engine: host.engine)
            var web = FunctionDefinition(name: "gw-web", image: "tandem/http-echo:latest", memoryMiB: 256, timeout: .seconds(10))
            web.contract = .http(port: 8080)
            host.deploy(web)
            let routes = [
                GatewayRoute(methods: ["POST"], path: "/web", target: .function("gw-web")),
                GatewayRoute(methods: ["GET"], path: "/binary", target: .function("gw-web")),
                GatewayRoute(methods: ["GET"], path: "/status/{code}", target: .function("gw-web")),
            ]
            let invoker = FunctionHostInvoker(host: host, enqueue: { _, _ in InvocationID("unused") })
            try await withLiveGateway(invoker, routes: routes) { _, port in
                let connection = try RawConnection(port: port)
                try connection.send(InvokeFastPathTests.post(#"{"n":1}"#, path: "/web?x=1"))
                let answer = try await connection.response()
                #expect(answer.status == 200)
                #expect(answer.header("x-served-by") == "http-echo")
                #expect(answer.header("connection") == nil, "the server's Connection: close stays on its hop")
                let echoed = try #require(AWSTools.parse(answer.body), "\(answer.body)")
                #expect(echoed["path"] as? String == "/web?x=1")
                #expect(echoed["body"] as? String == #"{"n":1}"#)
                let headers = echoed["headers"] as? [String: String] ?? [:]
                #expect(headers["x-forwarded-for"] == "127.0.0.1")
                #expect(headers["host"] == "127.0.0.1")
                // The server's own statuses pass through, and binary bodies byte for byte.
                try connection.send(Array("GET /status/418 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                #expect(try await connection.response().status == 418)
                try connection.send(Array("GET /binary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                let binary = try await connection.response()
                #expect(binary.header("content-type") == "application/octet-stream")
                #expect(binary.header("content-length") == "256")
            }
        }
    }

    @Test("aws lambda invoke through the gateway: result, function error, Tail, unknown function, Event with retries")
    func awsCLI() async throws {
        try await EndToEnd.withHost { host in
            host.deploy(EndToEnd.echo("gw-echo"))
            let queue = InMemoryEventQueue(host: host)
            try await withLiveGateway(FunctionHostInvoker(host: host, enqueue: queue.enqueue)) { _, port in
                let out = AWSTools.temporaryFile("out.json")
                defer { try? FileManager.default.removeItem(atPath: out) }

                let ok = try await AWSTools.lambdaInvoke(port: port, function: "gw-echo", payload: #"{"echo":1}"#, outfile: out)
                #expect(ok.status == 0, "\(ok.stderr)")
                let summary = try #require(AWSTools.parse(ok.stdout), "\(ok.stdout) \(ok.stderr)")
                #expect(summary["StatusCode"] as? Int == 200)
                #expect(summary["ExecutedVersion"] as? String == "$LATEST")
                #expect(try String(contentsOfFile: out, encoding: .utf8) == "1")

                let failed = try await AWSTools.lambdaInvoke(port: port, function: "gw-echo",
                                                             payload: #"{"fail":"no thumbnails today"}"#, outfile: out)
                #expect(failed.status == 0, "\(failed.stderr)")
                #expect(AWSTools.parse(failed.stdout)?["FunctionError"] as? String == "Unhandled", "\(failed.stdout)")
                let document = try #require(AWSTools.parse(try String(contentsOfFile: out, encoding: .utf8)))
                #expect((document["errorMessage"] as? String)?.contains("no thumbnails today") == true)
                #expect(document["errorType"] as? String != nil)

                let tail = try await AWSTools.lambdaInvoke(port: port, function: "gw-echo", payload: #"{"print":"log line"}"#,
                                                           outfile: out, extra: ["--log-type", "Tail"])
                #expect(tail.status == 0, "\(tail.stderr)")
                let tailSummary = try #require(AWSTools.parse(tail.stdout))
                #expect(tailSummary["StatusCode"] as? Int == 200)
                let logResult = try #require(tailSummary["LogResult"] as? String, "\(tail.stdout)")
                let log = String(decoding: Data(base64Encoded: logResult) ?? Data(), as: UTF8.self)
                #expect(log.contains("START RequestId: "), "\(log)")
                #expect(log.contains("log line"), "\(log)")
                #expect(log.contains("REPORT RequestId: "), "\(log)")

                let missing = try await AWSTools.lambdaInvoke(port: port, function: "not-deployed", payload: "{}", outfile: out)
                #expect(missing.status != 0)
                #expect(missing.stderr.contains("ResourceNotFoundException"), "\(missing.stderr)")
                #expect(missing.stderr.contains("Function not found: arn:aws:lambda:us-east-1:000000000000:function:not-deployed"))

                let event = try await AWSTools.lambdaInvoke(port: port, function: "gw-echo", payload: #"{"echo":"later"}"#,
                                                            outfile: out, extra: ["--invocation-type", "Event"])
                #expect(AWSTools.parse(event.stdout)?["StatusCode"] as? Int == 202, "\(event.stdout) \(event.stderr)")
                let failingEvent = try await AWSTools.lambdaInvoke(port: port, function: "gw-echo", payload: #"{"fail":"async"}"#,
                                                                   outfile: out, extra: ["--invocation-type", "Event"])
                #expect(AWSTools.parse(failingEvent.stdout)?["StatusCode"] as? Int == 202)
                try await eventually(timeout: .seconds(30)) { queue.settled == 2 }
                let attempts = queue.attempts
                #expect(attempts.filter { $0.payload == #"{"echo":"later"}"# }.map(\.succeeded) == [true])
                // Lambda retries a failed asynchronous invocation twice.
                #expect(attempts.filter { $0.payload == #"{"fail":"async"}"# }.map(\.succeeded) == [false, false, false])
            }
        }
    }

    @Test("boto3 through the gateway: result, function error, Tail, unknown function, Event, DryRun",
          .enabled(if: AWSTools.shouldRunBoto3))
    func boto3() async throws {
        let script = #"""
import base64, json, sys, boto3
from botocore.config import Config
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))
out = {}
r = c.invoke(FunctionName="gw-boto", Payload=b'{"echo":{"nested":[1,2]}}', LogType="Tail")
out["ok"] = [r["StatusCode"], r["Payload"].read().decode(), r.get("FunctionError")]
out["log"] = base64.b64decode(r.get("LogResult", "")).decode()
r = c.invoke(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:gw-boto", Payload=b'{"fail":"bad"}')
out["failed"] = [r["StatusCode"], json.loads(r["Payload"].read())["errorMessage"], r.get("FunctionError")]
try:
    c.invoke(FunctionName="not-deployed")
except c.exceptions.ResourceNotFoundException as e:
    out["missing"] = [e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]]
out["event"] = c.invoke(FunctionName="gw-boto", InvocationType="Event", Payload=b"{}")["StatusCode"]
out["dryRun"] = c.invoke(FunctionName="gw-boto", InvocationType="DryRun")["StatusCode"]
print(json.dumps(out))
"""#
        try await EndToEnd.withHost { host in
            host.deploy(EndToEnd.echo("gw-boto"))
            let queue = InMemoryEventQueue(host: host)
            try await withLiveGateway(FunctionHostInvoker(host: host, enqueue: queue.enqueue)) { _, port in
                let output = try await AWSTools.python(script, ["http://127.0.0.1:\(port)"])
                #expect(output.status == 0, "\(output.stderr)")
                let results = try #require(AWSTools.parse(output.stdout), "\(output.stdout) \(output.stderr)")
                let ok = try #require(results["ok"] as? [Any])
                #expect(ok[0] as? Int == 200)
                #expect(ok[1] as? String == #"{"nested":[1,2]}"#)
                #expect(ok[2] is NSNull)
                #expect((results["log"] as? String)?.contains("END RequestId: ") == true, "\(results["log"] ?? "")")
                let failed = try #require(results["failed"] as? [Any])
                #expect(failed[0] as? Int == 200)
                #expect((failed[1] as? String)?.contains("bad") == true)
                #expect(failed[2] as? String == "Unhandled")
                let missing = try #require(results["missing"] as? [Any])
                #expect(missing[0] as? Int == 404)
                #expect(results["event"] as? Int == 202)
                #expect(results["dryRun"] as? Int == 204)
                try await eventually(timeout: .seconds(30)) { queue.settled == 1 }
            }
        }
    }

    @Test("an http route through a real function: the event comes back as JSON, binary bodies base64; init errors 502; throttles 429")
    func httpRoute() async throws {
        try await EndToEnd.withHost { host in
            host.deploy(EndToEnd.echo("gw-route"))
            host.deploy(EndToEnd.echo("gw-broken", environment: ["ECHO_INIT_FAIL": "1"]))
            host.deploy(EndToEnd.echo("gw-off", reserved: 0))
            let routes = [
                GatewayRoute(methods: ["GET", "POST"], path: "/echo/{proxy+}", target: .function("gw-route")),
                GatewayRoute(path: "/broken", target: .function("gw-broken")),
                GatewayRoute(path: "/off", target: .function("gw-off")),
            ]
            let queue = InMemoryEventQueue(host: host)
            try await withLiveGateway(FunctionHostInvoker(host: host, enqueue: queue.enqueue), routes: routes) { _, port in
                let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(port)"))
                let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0xFE]
                let response = try await client.execute(Engine.HTTPRequest(
                    method: "POST", path: "/echo/photos/cat.png?size=large&size=small",
                    headers: [HTTPHeader("Content-Type", "image/png"), HTTPHeader("X-Trace", "t-1"),
                              HTTPHeader("Cookie", "a=1; b=2")],
                    body: .bytes(png), timeout: .seconds(30)))
                #expect(response.status == 200)
                #expect(response.header("content-type") == "application/json")
                #expect(response.header("apigw-requestid")?.isEmpty == false)
                let event = try #require(AWSTools.parse(String(decoding: response.body, as: UTF8.self)),
                                         "\(String(decoding: response.body, as: UTF8.self))")
                #expect(event["version"] as? String == "2.0")
                #expect(event["routeKey"] as? String == "POST /echo/{proxy+}")
                #expect(event["rawPath"] as? String == "/echo/photos/cat.png")
                #expect(event["pathParameters"] as? [String: String] == ["proxy": "photos/cat.png"])
                #expect(event["queryStringParameters"] as? [String: String] == ["size": "large,small"])
                #expect(event["cookies"] as? [String] == ["a=1", "b=2"])
                #expect((event["headers"] as? [String: String])?["x-trace"] == "t-1")
                #expect((event["headers"] as? [String: String])?["host"] == "127.0.0.1:\(port)")
                #expect(event["isBase64Encoded"] as? Bool == true)
                #expect(Data(base64Encoded: event["body"] as? String ?? "") == Data(png))
                let context = try #require(event["requestContext"] as? [String: Any])
                #expect((context["http"] as? [String: String])?["sourceIp"] == "127.0.0.1")

                let text = try await client.execute(Engine.HTTPRequest(
                    method: "GET", path: "/echo/hello", timeout: .seconds(30)))
                #expect(text.status == 200)
                #expect(AWSTools.parse(String(decoding: text.body, as: UTF8.self))?["isBase64Encoded"] as? Bool == false)

                let broken = try await client.execute(Engine.HTTPRequest(method: "GET", path: "/broken", timeout: .seconds(30)))
                #expect(broken.status == 502)
                #expect(String(decoding: broken.body, as: UTF8.self) == #"{"message":"Internal Server Error"}"#)

                let off = try await client.execute(Engine.HTTPRequest(method: "GET", path: "/off", timeout: .seconds(30)))
                #expect(off.status == 429)
                #expect(String(decoding: off.body, as: UTF8.self) == #"{"message":"Too Many Requests"}"#)

                let unrouted = try await client.execute(Engine.HTTPRequest(method: "DELETE", path: "/echo/x", timeout: .seconds(30)))
                #expect(unrouted.status == 404)
            }
        }
    }

    @Test("warm invokes through the gateway stay fast (median reported, loose bound)")
    func warmLatency() async throws {
        try await EndToEnd.withHost { host in
            host.deploy(EndToEnd.echo("gw-warm"))
            let queue = InMemoryEventQueue(host: host)
            try await withLiveGateway(FunctionHostInvoker(host: host, enqueue: queue.enqueue)) { _, port in
                let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(port)"))
                let request = Engine.HTTPRequest(method: "POST", path: "/2015-03-31/functions/gw-warm/invocations",
                                                 body: .bytes(Array(#"{"echo":1}"#.utf8)), timeout: .seconds(30))
                let first = try await client.execute(request)
                #expect(first.status == 200)
                var samples: [Duration] = []
                let clock = ContinuousClock()
                for _ in 0..<200 {
                    let start = clock.now
                    let response = try await client.execute(request)
                    samples.append(clock.now - start)
                    #expect(response.status == 200)
                    // Stay under the freeze grace so every call is warm.
                }
                samples.sort()
                let median = samples[samples.count / 2]
                // The same function invoked on the host directly: what the gateway adds is the difference.
                var direct: [Duration] = []
                for _ in 0..<200 {
                    let start = clock.now
                    _ = await host.invoke("gw-warm", payload: ByteBuffer(string: #"{"echo":1}"#))
                    direct.append(clock.now - start)
                }
                direct.sort()
                print("warm invoke p50: through the gateway \(median), on the host directly \(direct[direct.count / 2])")
                // A loose bound for a loaded 2-core CI machine; the target (≤ 0.5 ms) is measured by bench.
                #expect(median < .milliseconds(20))
            }
        }
    }
}

/// Event invocations as Lambda runs them, in memory: the gateway's 202 comes
/// at once; the invocation runs later and is retried twice on error.
final class InMemoryEventQueue: Sendable {
    struct Attempt: Sendable {
        var id: InvocationID
        var payload: String
        var succeeded: Bool
    }

    let host: FunctionHost
    private let state = Mutex<(attempts: [Attempt], settled: Int)>(([], 0))

    init(host: FunctionHost) { self.host = host }

    var attempts: [Attempt] { state.withLock { $0.attempts } }
    /// Events that succeeded or ran out of retries.
    var settled: Int { state.withLock { $0.settled } }

    @Sendable func enqueue(_ name: String, _ payload: ByteBuffer) async throws -> InvocationID {
        let id = InvocationID(UUID().uuidString.lowercased())
        Task {
            for attempt in 0..<3 {
                let result = await host.invoke(name, payload: payload)
                let succeeded: Bool
                if case .response = result.outcome { succeeded = true } else { succeeded = false }
                state.withLock { $0.attempts.append(Attempt(id: id, payload: String(buffer: payload), succeeded: succeeded)) }
                if succeeded || attempt == 2 { break }
                try? await Task.sleep(for: .milliseconds(100 << attempt))
            }
            state.withLock { $0.settled += 1 }
        }
        return id
    }
}

enum EndToEnd {
    static let image = FunctionHostFixture.echoImage

    static func echo(_ name: String, reserved: Int? = nil, environment: [String: String] = [:]) -> FunctionDefinition {
        FunctionDefinition(name: name, image: image, environment: environment, memoryMiB: 256, timeout: .seconds(10),
                           reservedConcurrency: reserved)
    }

    /// A host on the real engine; every container it started is gone afterwards.
    static func withHost(_ body: (FunctionHost) async throws -> Void) async throws {
        try await FunctionHostFixture.withHost(
            settings: FunctionHostSettings(globalConcurrency: 8, freezeGrace: .milliseconds(500)), body)
    }
}
