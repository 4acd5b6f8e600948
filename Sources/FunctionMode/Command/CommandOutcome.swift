import NIOCore

/// How a finished command process maps to an invocation outcome (pure).
///
/// A Lambda user expects a failed function to come back as HTTP 200 with
/// `X-Amz-Function-Error: Unhandled` and an error document
/// `{"errorMessage": …, "errorType": …}`: a non-zero exit is that, with
/// `errorType` `Runtime.ExitError` (or `Runtime.OutOfMemory` when the engine
/// reports an OOM kill, whatever the exit code) and the exit status plus the
/// last line the process wrote to stderr as the message — the line that
/// usually says what went wrong.
public enum CommandOutcome {
    /// - Parameters:
    ///   - stdout: what the process printed (at most the payload limit plus one byte is kept).
    ///   - stdoutBytes: how many bytes it printed in all.
    ///   - lastStderrLine: the last non-empty line of its stderr, if any.
    public static func make(
        exitCode: Int, outOfMemory: Bool, stdout: [UInt8], stdoutBytes: Int, lastStderrLine: String?
    ) -> InvocationOutcome {
        if exitCode == 0, !outOfMemory {
            if stdoutBytes > RuntimeAPI.maxPayloadBytes { return .responseTooLarge(bytes: stdoutBytes) }
            return .response(ByteBuffer(bytes: stdout))
        }
        let errorType = outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError"
        var message = exitCode > 128
            ? "signal: \(InvocationResult.signalName(exitCode - 128))"
            : "exit status \(exitCode)"
        if outOfMemory { message += " (out of memory)" }
        if let line = lastStderrLine, !line.isEmpty { message += ": \(line)" }
        let body = ErrorDocument.json(errorType: errorType, errorMessage: message)
        return .functionError(RuntimeErrorReport(errorType: errorType, errorMessage: message, body: Array(body.utf8)))
    }

    /// The last non-empty line of `text` (trailing newlines and spaces dropped).
    public static func lastLine(of text: some StringProtocol) -> String? {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        guard let last = lines.last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return nil }
        var line = String(last)
        while let end = line.last, end.isWhitespace { line.removeLast() }
        return line
    }
}
