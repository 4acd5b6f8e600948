import Foundation
import Testing
@testable import Controller

#if canImport(Glibc)
import Glibc
#endif

/// The control client tells "no controller here" from "the controller refused"
/// (no engine needed).
@Suite("Control client errors")
struct ControlClientTests {
    @Test("no socket file: noController")
    func missingSocket() async throws {
        let folder = try TemporaryFolder()
        let client = ControlClient(socketPath: folder.path("tandem.sock"))
        let error = await #expect(throws: ControllerError.self) { _ = try await client.processList() }
        #expect(error?.code == .noController)
        #expect(error?.description.contains("no controller is running here") == true)
    }

    @Test("a socket file with nothing listening behind it: noController, with the connect failure as the cause")
    func nothingListening() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("tandem.sock")
        // Bound and closed: the file stays, nothing listens.
        let fd = try UnixSocketServer.boundSocket(path)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        let error = await #expect(throws: ControllerError.self) { try await ControlClient(socketPath: path).down() }
        #expect(error?.code == .noController)
        #expect(error?.underlying != nil)
        #expect(error?.description.contains("no controller answers on") == true)
    }

    @Test("the controller answers 404: refused, with its status and body as the message")
    func refused() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("tandem.sock")
        let server = try UnixSocketServer(path: path, status: "404 Not Found", body: "no function named ghost runs here\n")
        defer { server.stop() }
        let error = await #expect(throws: ControllerError.self) {
            _ = try await ControlClient(socketPath: path).invoke("ghost", payload: Array("{}".utf8))
        }
        #expect(error?.code == .refused)
        #expect(error?.refusal?.status == 404)
        #expect(error?.refusal?.body == "no function named ghost runs here")
        #expect(error?.description == "no function named ghost runs here")
    }

    @Test("an empty refusal still names the status")
    func emptyRefusal() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("tandem.sock")
        let server = try UnixSocketServer(path: path, status: "409 Conflict", body: "")
        defer { server.stop() }
        let error = await #expect(throws: ControllerError.self) { try await ControlClient(socketPath: path).down() }
        #expect(error?.code == .refused)
        #expect(error?.refusal?.status == 409)
        #expect(error?.description == "the controller answered HTTP 409")
    }
}

/// A temporary folder removed when the value goes away.
final class TemporaryFolder {
    let url: URL

    init() throws {
        // Short: a Unix socket's path is limited to 107 bytes.
        url = URL(fileURLWithPath: "/tmp/tcc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A Unix-socket HTTP server that answers every request with one fixed response.
final class UnixSocketServer: @unchecked Sendable {
    struct Failure: Error { let call: String; let errno: Int32 }

    private let fd: Int32
    private let thread: Thread

    init(path: String, status: String, body: String) throws {
        let fd = try Self.boundSocket(path)
        guard listen(fd, 8) == 0 else { throw Failure(call: "listen", errno: errno) }
        self.fd = fd
        let response = "HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n\(body)"
        thread = Thread {
            while true {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                // Read the request head (a small request arrives whole), then answer.
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = read(connection, &buffer, buffer.count)
                let bytes = Array(response.utf8)
                _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                shutdown(connection, Int32(SHUT_WR))
                close(connection)
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    static func boundSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw Failure(call: "bind", errno: errno)
        }
        return fd
    }
}
