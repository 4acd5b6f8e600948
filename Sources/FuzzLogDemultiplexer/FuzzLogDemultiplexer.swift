import Engine
import FuzzSupport

// The engine's log-frame demultiplexer. The input is the stream; its first byte
// chooses how it is cut into reads (1…32 bytes each) and whether (1 in 16) a
// 70,000-byte frame goes first (so the buffer compaction past 64 KB runs). Checked: the
// stream fed in pieces gives exactly what it gives fed at once (the same frames,
// the same error, the same bytes left over), and no frame is empty or too long.

func fuzzOne(_ bytes: [UInt8]) {
    guard let control = bytes.first else { return }
    var stream = Array(bytes.dropFirst())
    if control >= 0xF0 {
        let size = 70_000
        stream = [1, 0, 0, 0, UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
            + [UInt8](repeating: 0x61, count: size) + stream
    }
    let whole = run(stream, pieceSize: stream.count + 1)
    let pieces = run(stream, pieceSize: Int(control & 0x1F) + 1)
    precondition(whole.failed == pieces.failed, "fed in pieces, the stream \(pieces.failed ? "failed" : "passed"); at once it did not")
    if !whole.failed {
        precondition(whole.chunks == pieces.chunks, "fed in pieces, the stream gave other frames")
        precondition(whole.pending == pieces.pending, "fed in pieces, the stream left other bytes over")
    }
    for chunk in whole.chunks + pieces.chunks {
        precondition(!chunk.bytes.isEmpty && chunk.bytes.count <= stream.count, "a frame of \(chunk.bytes.count) bytes")
    }
}

func run(_ stream: [UInt8], pieceSize: Int) -> (chunks: [LogChunk], failed: Bool, pending: Int) {
    var demux = LogDemultiplexer()
    var chunks: [LogChunk] = []
    var offset = 0
    repeat {
        let end = min(offset + pieceSize, stream.count)
        do {
            chunks += try demux.feed(stream[offset..<end])
        } catch {
            return (chunks, true, demux.pendingByteCount)
        }
        offset = end
    } while offset < stream.count
    let finished = (try? demux.finish()) != nil
    precondition(finished == (demux.pendingByteCount == 0))
    return (chunks, false, demux.pendingByteCount)
}

@main enum Main {
    static func main() { FuzzReplay.main(fuzzOne) }
}
