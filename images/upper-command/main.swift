// A `command`-contract function: reads its event from stdin, writes the
// result (the input upper-cased, ASCII letters only) to stdout, logs to stderr.
// The input `fail` makes it fail: a message on stderr and exit status 3.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

var input: [UInt8] = []
var buffer = [UInt8](repeating: 0, count: 65536)
while true {
    let n = read(0, &buffer, buffer.count)
    if n > 0 {
        input += buffer[0..<n]
    } else if n == 0 || errno != EINTR {
        break
    }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if n <= 0 { if errno == EINTR { continue } else { return } }
        offset += n
    }
}

var trimmed = input[...]
while let last = trimmed.last, last == 10 || last == 13 || last == 32 { trimmed = trimmed.dropLast() }
if Array(trimmed) == Array("fail".utf8) {
    writeAll(2, Array("upper-command: failing as asked\n".utf8))
    exit(3)
}
writeAll(2, Array("upper-command: \(input.count) bytes in\n".utf8))
writeAll(1, input.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })
