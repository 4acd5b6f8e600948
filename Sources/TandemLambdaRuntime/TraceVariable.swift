#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Sets `_X_AMZN_TRACE_ID` for each invocation, as Lambda's runtimes do,
/// without leaking: glibc's `setenv` keeps a copy of every value it was ever
/// given (a long-lived environment serving thousands of invocations a second
/// would grow by megabytes a second). Here the variable's `NAME=value` text
/// lives in one buffer of ours that `putenv` installs; each invocation writes
/// its value into that buffer, which grows (rarely) by doubling.
///
/// Called only from the runtime loop, between invocations.
final class TraceVariable {
    /// `_X_AMZN_TRACE_ID`'s.
    nonisolated(unsafe) static let trace = TraceVariable(LambdaRuntimeAPI.traceIDVariable)

    let name: String
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    init(_ name: String) { self.name = name }

    static func set(_ value: String?) { trace.set(value) }

    func set(_ value: String?) {
        guard let value else {
            unsetenv(name)
            return
        }
        let entry = Array("\(name)=\(value)".utf8CString)
        if entry.count > capacity {
            // The old buffer may still be read through `environ` by another
            // thread: it is kept, not freed (growth is rare and bounded).
            capacity = max(256, entry.count * 2)
            buffer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        }
        guard let buffer else { return }
        entry.withUnsafeBufferPointer { source in
            buffer.update(from: source.baseAddress!, count: source.count)
        }
        putenv(buffer)
    }
}
