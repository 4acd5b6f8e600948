import Engine
import Foundation
import Testing
import TestSupport

/// A tiny HTTP/1.1 server (Python) for testing the HTTP layer over TCP.
final class LocalHTTPServer: @unchecked Sendable {
    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let script = #"""
import hashlib, signal, socketserver, sys, time
signal.signal(signal.SIGTERM, signal.SIG_DFL)
from http.server import BaseHTTPRequestHandler, HTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data, "chunked"
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n), "length"
    def reply(self, text, status=200):
        b = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(b)))
        self.send_header("X-Method", self.command)
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(6); return self.reply("late")
        if self.path == "/drip":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(40):
                piece = ("tick%d\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece)); self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n"); return
        self.reply("hello " + self.path)
    def do_POST(self):
        data, how = self.body()
        self.reply("%s %d %s %s" % (self.command, len(data), hashlib.sha256(data).hexdigest(), how))
    do_PUT = do_POST

class S(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True

s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""#

    let process = Process()
    let port: Int

    init() throws {
        let python = try #require(Self.python, "python3 is needed for the local HTTP test server (apt-get install python3)")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line: [UInt8] = []
        while let byte = try pipe.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        port = Int(String(decoding: line, as: UTF8.self)) ?? 0
    }

    /// SIGKILL: the test process may hand its children a blocked SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

// Skipped only where python3 is missing, and never under CI=true (there the
// missing interpreter fails the suite with its message).
@Suite("CurlHTTPClient over TCP", .enabled(if: LocalHTTPServer.python != nil || EngineAvailability.isCI))
struct CurlHTTPClientTests {
    @Test("GET over TCP reuses the connection; custom methods and bodies are sent")
    func basics() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(server.port)/"))
        let first = try await client.execute(HTTPRequest(path: "/a?x=1"))
        #expect(first.status == 200)
        #expect(String(decoding: first.body, as: UTF8.self) == "hello /a?x=1")
        let opened = client.connectionsOpened
        for _ in 0..<20 { _ = try await client.execute(HTTPRequest(path: "/b")) }
        #expect(client.connectionsOpened == opened)
        let body = Array("payload".utf8)
        let put = try await client.execute(HTTPRequest(method: "PUT", path: "/p", body: .bytes(body)))
        #expect(put.header("x-method") == "PUT")
        #expect(String(decoding: put.body, as: UTF8.self).hasPrefix("PUT 7 "))
        // After a PUT, a reused handle does a plain GET again.
        let get = try await client.execute(HTTPRequest(path: "/c"))
        #expect(get.header("X-Method") == "GET")
        let emptyPost = try await client.execute(HTTPRequest(method: "POST", path: "/e"))
        #expect(String(decoding: emptyPost.body, as: UTF8.self).hasPrefix("POST 0 "))
    }

    @Test("a streamed body of 8 MiB is sent chunked and with a known length, intact", arguments: [false, true])
    func streamedBody(knownLength: Bool) async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(server.port)"))
        let piece = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let total = 128 * piece.count
        let body = HTTPRequestBody.stream(length: knownLength ? Int64(total) : nil) { writer in
            for _ in 0..<128 { try await writer.write(piece) }
        }
        let response = try await client.execute(HTTPRequest(method: "POST", path: "/upload", body: body))
        let words = String(decoding: response.body, as: UTF8.self).split(separator: " ")
        #expect(words.count == 4)
        #expect(words[1] == "\(total)")
        #expect(words[3] == (knownLength ? "length" : "chunked"))
        let expected = try await sha256((0..<128).flatMap { _ in piece })
        #expect(String(words[2]) == expected)
    }

    @Test("a body producer that fails stops the transfer with its own error, not a bare cancellation")
    func producerFailure() async throws {
        struct ContextUnreadable: Error, Equatable {}
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(server.port)"))
        let body = HTTPRequestBody.stream(length: nil) { writer in
            try await writer.write([UInt8](repeating: 7, count: 100_000))
            throw ContextUnreadable()
        }
        await #expect(throws: ContextUnreadable.self) {
            _ = try await client.execute(HTTPRequest(method: "POST", path: "/upload", body: body))
        }
        // The client is still good.
        let after = try await client.execute(HTTPRequest(method: "POST", path: "/upload", body: .bytes([1, 2, 3])))
        #expect(String(decoding: after.body, as: UTF8.self).hasPrefix("POST 3 "))
    }

    @Test("a streamed response arrives live; breaking off removes the transfer")
    func streamedResponse() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(server.port)"))
        let response = try await client.stream(HTTPRequest(path: "/drip"))
        #expect(response.status == 200)
        var text = ""
        for try await chunk in response.body {
            text += String(decoding: chunk, as: UTF8.self)
            if text.contains("tick2\n") { break }
        }
        #expect(text.hasPrefix("tick0\ntick1\ntick2\n"))
        let clock = ContinuousClock()
        let start = clock.now
        while client.transfersCompleted == 0 && clock.now - start < .seconds(1) {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(client.transfersCompleted == 1, "the transfer ended long before the server's 2 s of output")
    }

    @Test("a streamed response outlives the client that opened it")
    func streamOutlivesClient() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        func open() async throws -> HTTPStreamingResponse {
            let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(server.port)"))
            return try await client.stream(HTTPRequest(path: "/drip"))
        }
        let response = try await open()
        var text = ""
        for try await chunk in response.body {
            text += String(decoding: chunk, as: UTF8.self)
            if text.contains("tick4\n") { break }
        }
        #expect(text.hasPrefix("tick0\ntick1\ntick2\ntick3\ntick4\n"))
    }

    @Test("time limits, cancellation and refused connections are typed")
    func failures() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let client = try CurlHTTPClient(endpoint: .tcp(baseURL: "http://127.0.0.1:\(server.port)"))
        await #expect {
            _ = try await client.execute(HTTPRequest(path: "/slow", timeout: .milliseconds(200)))
        } throws: { ($0 as? CurlError)?.isTimeout == true }
        let task = Task { try await client.execute(HTTPRequest(path: "/slow")) }
        try await Task.sleep(for: .milliseconds(100))
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        // /slow answers after 6 s; cancelling must end the call well before that,
        // with room for a loaded 2-core CI machine running the whole suite.
        #expect(clock.now - start < .seconds(3))
        let closed = client.sharingLoop(with: .tcp(baseURL: "http://127.0.0.1:1"))
        await #expect {
            _ = try await closed.execute(HTTPRequest(path: "/"))
        } throws: { ($0 as? CurlError)?.isConnectFailure == true }
    }

    func sha256(_ bytes: [UInt8]) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
