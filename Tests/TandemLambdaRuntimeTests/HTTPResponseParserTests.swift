import Testing
@testable import TandemLambdaRuntime

@Suite("HTTP response parser")
struct HTTPResponseParserTests {
    /// Feeds `pieces` one at a time and collects every complete response.
    func parse(_ pieces: [[UInt8]], finish: Bool = false) throws -> [HTTPResponse] {
        var parser = HTTPResponseParser()
        var responses: [HTTPResponse] = []
        for piece in pieces {
            parser.feed(piece)
            while let response = try parser.nextResponse() {
                responses.append(response)
            }
        }
        if finish, let response = try parser.finish() {
            responses.append(response)
        }
        return responses
    }

    /// `bytes` cut at the given offsets.
    func split(_ bytes: [UInt8], at cuts: [Int]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var start = 0
        for cut in cuts.sorted() where cut > start && cut < bytes.count {
            pieces.append(Array(bytes[start..<cut]))
            start = cut
        }
        pieces.append(Array(bytes[start...]))
        return pieces
    }

    static let nextResponse = Array((
        "HTTP/1.1 200 OK\r\n"
        + "Content-Type: application/json\r\n"
        + "lambda-runtime-aws-request-id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
        + "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n"
        + "Content-Length: 13\r\n"
        + "\r\n"
        + "{\"echo\":\"hi\"}"
    ).utf8)

    @Test("a Content-Length response in one piece")
    func contentLength() throws {
        let responses = try parse([Self.nextResponse])
        #expect(responses.count == 1)
        let response = try #require(responses.first)
        #expect(response.status == 200)
        #expect(response.reason == "OK")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"echo":"hi"}"#)
        #expect(response.keepAlive)
    }

    @Test("header lookups ignore case")
    func headersIgnoreCase() throws {
        let response = try #require(try parse([Self.nextResponse]).first)
        #expect(response.headers["Lambda-Runtime-Aws-Request-Id"] == "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
        #expect(response.headers["LAMBDA-RUNTIME-DEADLINE-MS"] == "1542409706888")
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["X-Missing"] == nil)
    }

    @Test("a response cut at every single offset parses the same", arguments: [1, 2, 3, 7])
    func contentLengthEverySplit(step: Int) throws {
        let bytes = Self.nextResponse
        let pieces = stride(from: 0, to: bytes.count, by: step).map { Array(bytes[$0..<min($0 + step, bytes.count)]) }
        let responses = try parse(pieces)
        #expect(responses == (try parse([bytes])))
    }

    static let chunked = Array((
        "HTTP/1.1 200 OK\r\n"
        + "Transfer-Encoding: chunked\r\n"
        + "Lambda-Runtime-Aws-Request-Id: abc\r\n"
        + "\r\n"
        + "5\r\nhello\r\n"
        + "1;name=value\r\n,\r\n"
        + "A\r\n world and\r\n"
        + "0\r\n"
        + "X-Trailer: yes\r\n"
        + "\r\n"
    ).utf8)

    @Test("a chunked response, with an extension and a trailer")
    func chunked() throws {
        let response = try #require(try parse([Self.chunked]).first)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello, world and")
        #expect(response.headers["lambda-runtime-aws-request-id"] == "abc")
    }

    @Test("a chunked response cut in arbitrary places", arguments: 0..<40)
    func chunkedArbitrarySplits(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        let bytes = Self.chunked
        let cuts = (0..<(1 + seed % 8)).map { _ in Int(generator.next() % UInt64(bytes.count)) }
        let responses = try parse(split(bytes, at: cuts))
        #expect(responses.count == 1)
        #expect(responses.first.map { String(decoding: $0.body, as: UTF8.self) } == "hello, world and")
    }

    @Test("a chunked response fed one byte at a time")
    func chunkedByteAtATime() throws {
        let responses = try parse(Self.chunked.map { [$0] })
        #expect(responses.count == 1)
        #expect(responses.first.map { String(decoding: $0.body, as: UTF8.self) } == "hello, world and")
    }

    @Test("two responses back to back on one connection")
    func pipelined() throws {
        let accepted = Array("HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n".utf8)
        let responses = try parse(split(accepted + Self.nextResponse, at: [30, 70]))
        #expect(responses.map(\.status) == [202, 200])
        #expect(responses.first?.body.count == 16)
    }

    @Test("204, a zero-length body and an interim 100 Continue")
    func noBody() throws {
        let bytes = Array((
            "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
            + "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
        ).utf8)
        let responses = try parse([bytes])
        #expect(responses.map(\.status) == [204, 202])
        #expect(responses.allSatisfy { $0.body.isEmpty })
    }

    @Test("a body delimited by the end of the connection")
    func untilClose() throws {
        let bytes = Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it".utf8)
        let responses = try parse(split(bytes, at: [10, 40]), finish: true)
        #expect(responses.count == 1)
        #expect(responses.first.map { String(decoding: $0.body, as: UTF8.self) } == "all of it")
        #expect(responses.first?.keepAlive == false)
    }

    @Test("the connection closing mid-response is an error", arguments: [10, 40, 100, 127])
    func truncatedContentLength(cut: Int) throws {
        var parser = HTTPResponseParser()
        parser.feed(Self.nextResponse.prefix(cut))
        #expect(try parser.nextResponse() == nil)
        let error = #expect(throws: LambdaRuntimeError.self) { try parser.finish() }
        #expect(error?.code == .truncatedResponse)
    }

    @Test("a chunked response cut before its last chunk is an error")
    func truncatedChunked() throws {
        var parser = HTTPResponseParser()
        parser.feed(Self.chunked.prefix(Self.chunked.count - 5))
        #expect(try parser.nextResponse() == nil)
        #expect(throws: LambdaRuntimeError.self) { try parser.finish() }
    }

    @Test("a closed connection before any byte is not a response")
    func closedWhileIdle() throws {
        var parser = HTTPResponseParser()
        #expect(try parser.finish() == nil)
    }

    @Test("malformed responses are rejected", arguments: [
        "HTTP/1.1 OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    ])
    func malformed(text: String) throws {
        var parser = HTTPResponseParser()
        parser.feed(Array(text.utf8))
        let error = #expect(throws: LambdaRuntimeError.self) { try parser.nextResponse() }
        #expect(error?.code == .malformedResponse)
    }
}

/// A small deterministic generator for split points.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
