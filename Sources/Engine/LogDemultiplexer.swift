/// A piece of container output.
public struct LogChunk: Sendable, Equatable {
    /// Which stream a chunk came from (the first byte of an 8-byte frame header).
    public enum Stream: UInt8, Sendable, Equatable {
        case stdin = 0
        case stdout = 1
        case stderr = 2
        /// The engine's own error stream (seen on attach/exec).
        case systemError = 3
    }

    public var stream: Stream
    public var bytes: [UInt8]

    public init(stream: Stream, bytes: [UInt8]) {
        self.stream = stream
        self.bytes = bytes
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Splits the engine's multiplexed stream (non-TTY logs, attach, exec) into
/// stdout and stderr. Each frame is `[stream, 0, 0, 0, size (4 bytes, big-endian)]`
/// followed by `size` bytes. Frames may arrive split at any byte boundary; the
/// demultiplexer keeps the incomplete rest until the next `feed`.
public struct LogDemultiplexer: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet forming a whole frame.
    public var pendingByteCount: Int { buffer.count - start }

    /// Feeds received bytes; returns every frame completed by them (empty frames are
    /// skipped).
    /// - Throws: ``EngineError`` (`decoding`) when a header names an unknown stream.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [LogChunk] {
        buffer.append(contentsOf: bytes)
        var chunks: [LogChunk] = []
        while buffer.count - start >= 8 {
            let kind = buffer[start]
            guard let stream = LogChunk.Stream(rawValue: kind) else {
                throw EngineError(
                    .decoding, operation: "log stream",
                    message: "bad frame header: unknown stream id \(kind) (is the container a TTY?)")
            }
            let size = Int(buffer[start + 4]) << 24 | Int(buffer[start + 5]) << 16
                | Int(buffer[start + 6]) << 8 | Int(buffer[start + 7])
            guard buffer.count - start - 8 >= size else { break }
            if size > 0 {
                chunks.append(LogChunk(stream: stream, bytes: Array(buffer[(start + 8)..<(start + 8 + size)])))
            }
            start += 8 + size
        }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        return chunks
    }

    /// Call at the end of the stream.
    /// - Throws: ``EngineError`` (`decoding`) when the stream ended inside a frame.
    public func finish() throws {
        if pendingByteCount > 0 {
            throw EngineError(
                .decoding, operation: "log stream",
                message: "the stream ended inside a frame (\(pendingByteCount) bytes left over)")
        }
    }
}
