// echo-function: a Lambda function for tandem's tests and benchmarks, driven
// by its JSON payload. Every key is optional; they act in this order:
//
//   {"print": "line"}      print a line to stdout (for log tests)
//   {"allocate_mb": N}     allocate and touch N MB for the invocation
//   {"sleep_ms": N}        sleep N milliseconds
//   {"exit": CODE}         exit the process with CODE
//   {"crash": true}        exit the process with status 1 (or "exit")
//   {"fail": "message"}    throw an error (→ /invocation/{id}/error)
//   {"bytes": N}           answer exactly N bytes ("xxxx" as a JSON string
//                          when N >= 2)
//   {"echo": VALUE}        answer VALUE as JSON
//   otherwise              answer the payload itself
//
// A payload that is not a JSON object is echoed back byte for byte.
//
// Environment: ECHO_INIT_FAIL=1 makes initialisation throw (→ /init/error);
// ECHO_INIT_SLEEP_MS=N delays initialisation by N ms.
import FoundationEssentials
import TandemLambdaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct EchoFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct EchoInitFailure: Error, CustomStringConvertible {
    var description: String { "ECHO_INIT_FAIL is set" }
}

/// Written after touching memory so the allocation cannot be optimised away.
nonisolated(unsafe) var touchedSink = 0

func sleepMilliseconds(_ milliseconds: Int) {
    guard milliseconds > 0 else { return }
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}

func allocateAndTouch(megabytes: Int) {
    guard megabytes > 0 else { return }
    let size = megabytes * 1024 * 1024
    let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
    defer { memory.deallocate() }
    let bytes = memory.bindMemory(to: UInt8.self, capacity: size)
    var sum = 0
    var offset = 0
    while offset < size {
        bytes[offset] = UInt8(truncatingIfNeeded: offset >> 12)
        sum &+= Int(bytes[offset])
        offset += 4096
    }
    touchedSink &+= sum
}

func environmentValue(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

func handle(_ event: [UInt8], _ context: LambdaContext) throws -> [UInt8] {
    guard event.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{"),
          let payload = try? JSONDecoder().decode(JSONValue.self, from: Data(event)) else {
        return event
    }
    if let line = payload["print"] {
        print(line.text)
    }
    if let megabytes = payload["allocate_mb"]?.int {
        allocateAndTouch(megabytes: megabytes)
    }
    if let milliseconds = payload["sleep_ms"]?.int {
        sleepMilliseconds(milliseconds)
    }
    let exitCode = payload["exit"]?.int
    if payload["crash"]?.bool == true || exitCode != nil {
        StandardOutput.flush()
        exit(Int32(truncatingIfNeeded: exitCode ?? 1))
    }
    if let message = payload["fail"] {
        throw EchoFailure(message: message.text)
    }
    if let count = payload["bytes"]?.int {
        let size = max(count, 0)
        if size >= 2 {
            return [UInt8(ascii: "\"")] + [UInt8](repeating: UInt8(ascii: "x"), count: size - 2) + [UInt8(ascii: "\"")]
        }
        return [UInt8](repeating: UInt8(ascii: "x"), count: size)
    }
    if let value = payload["echo"] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return [UInt8](try encoder.encode(value))
    }
    return event
}

enum StandardOutput {
    static func flush() { fflush(nil) }
}

LambdaRuntime.run(initializer: { () throws -> LambdaRuntime.Handler in
    if let delay = environmentValue("ECHO_INIT_SLEEP_MS").flatMap({ Int($0) }) {
        sleepMilliseconds(delay)
    }
    if environmentValue("ECHO_INIT_FAIL") == "1" {
        throw EchoInitFailure()
    }
    return handle
})
