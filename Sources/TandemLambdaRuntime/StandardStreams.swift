// The C standard streams are mutable globals to Swift 6; this file is the one
// place that touches them.
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

enum StandardStreams {
    /// Line-buffers stdout so each `print` reaches the container's log as it
    /// happens, even when stdout is a pipe.
    static func lineBufferStandardOutput() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }

    /// Flushes stdout and stderr (after each invocation).
    static func flush() {
        fflush(stdout)
        fflush(stderr)
    }

    /// Writes straight to file descriptor 2, unbuffered.
    static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { raw in
                write(STDERR_FILENO, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
