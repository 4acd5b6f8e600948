// http-echo: a tiny HTTP server for tandem's http-contract tests. It listens on
// $PORT (default 8080) and answers every request with a JSON description of it:
//   {"method": "...", "path": "...", "headers": {...}, "body": "..."}
// Special paths: /status/NNN answers with that status; /binary answers the
// bytes 0…255 as application/octet-stream; /sleep/MS waits MS milliseconds.
// A request with a body echoes the body's bytes back under "body" (as text).
// Connections are kept alive (HTTP/1.1) unless the client says `Connection:
// close`; each connection is served by a thread of its own.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

setvbuf(stdout, nil, _IOLBF, 0)
let port = UInt16(getenv("PORT").flatMap { Int(String(cString: $0)) } ?? 8080)

func fail(_ what: String) -> Never {
    perror(what)
    exit(1)
}

let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
if listener < 0 { fail("socket") }
var yes: Int32 = 1
setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = port.bigEndian
address.sin_addr = in_addr(s_addr: 0)
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
if bound < 0 { fail("bind") }
if listen(listener, 64) < 0 { fail("listen") }
print("http-echo listening on port \(port)")

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent <= 0 { return }
        offset += sent
    }
}

func respond(_ fd: Int32, status: Int, contentType: String, body: [UInt8], keepAlive: Bool) {
    let head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Status")\r\nContent-Type: \(contentType)\r\n"
        + "Content-Length: \(body.count)\r\nX-Served-By: http-echo\r\n"
        + (keepAlive ? "" : "Connection: close\r\n") + "\r\n"
    sendAll(fd, Array(head.utf8) + body)
}

/// Serves one connection's requests until the client closes it or asks to.
func serve(_ fd: Int32) {
    var buffer: [UInt8] = []
    while handle(fd, &buffer) {}
    close(fd)
}

/// Answers one request; false when the connection is done.
func handle(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 65536)
    var headerEnd = findHeaderEnd(buffer)
    while headerEnd == nil {
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        headerEnd = findHeaderEnd(buffer)
    }
    guard let end = headerEnd else { return false }
    let headText = String(decoding: buffer[0..<end], as: UTF8.self)
    var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
    let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
    guard requestLine.count >= 2 else {
        respond(fd, status: 400, contentType: "text/plain", body: Array("bad request\n".utf8), keepAlive: false)
        return false
    }
    var headers: [(String, String)] = []
    var length = 0
    for line in lines where !line.isEmpty {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
        headers.append((name, value))
        if name == "content-length" { length = Int(value) ?? 0 }
    }
    let connection = headers.first { $0.0 == "connection" }?.1.lowercased() ?? ""
    let keep = requestLine.count >= 3 && requestLine[2] == "HTTP/1.1" ? !connection.contains("close")
                                                                     : connection.contains("keep-alive")
    while buffer.count < end + 4 + length {
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        buffer += chunk[0..<n]
    }
    let body = Array(buffer[(end + 4)..<(end + 4 + length)])
    buffer.removeFirst(end + 4 + length)
    let method = requestLine[0]
    let path = requestLine[1]
    if path.hasPrefix("/status/"), let status = Int(path.dropFirst("/status/".count)) {
        respond(fd, status: status, contentType: "text/plain", body: Array("status \(status)\n".utf8), keepAlive: keep)
        return keep
    }
    if path == "/binary" {
        respond(fd, status: 200, contentType: "application/octet-stream", body: (0...255).map { UInt8($0) }, keepAlive: keep)
        return keep
    }
    if path.hasPrefix("/sleep/"), let ms = Int(path.dropFirst("/sleep/".count)) {
        usleep(useconds_t(ms * 1000))
    }
    print("\(method) \(path)")
    let headerJSON = headers.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",")
    let json = "{\"method\":\(jsonString(method)),\"path\":\(jsonString(path)),\"headers\":{\(headerJSON)},"
        + "\"body\":\(jsonString(String(decoding: body, as: UTF8.self)))}"
    respond(fd, status: 200, contentType: "application/json", body: Array(json.utf8), keepAlive: keep)
    return keep
}

func findHeaderEnd(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
        return i
    }
    return nil
}

while true {
    let fd = accept(listener, nil, nil)
    if fd < 0 { continue }
    var thread = pthread_t()
    let argument = UnsafeMutableRawPointer(bitPattern: Int(fd) + 1)
    if pthread_create(&thread, nil, { argument in
        serve(Int32(Int(bitPattern: argument) - 1))
        return nil
    }, argument) == 0 {
        pthread_detach(thread)
    } else {
        serve(fd)
    }
}
