/// Splits a byte stream into newline-terminated lines (JSON lines of build
/// progress and events), keeping a partial line for the next `feed`.
struct JSONLineSplitter: Sendable {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var slice = bytes[...]
        while let newline = slice.firstIndex(of: UInt8(ascii: "\n")) {
            pending += slice[slice.startIndex..<newline]
            if pending.contains(where: { $0 != 32 && $0 != 13 && $0 != 9 }) { lines.append(pending) }
            pending.removeAll(keepingCapacity: true)
            slice = slice[(newline + 1)...]
        }
        pending += slice
        return lines
    }

    /// The last line if the stream did not end with a newline.
    mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        return pending.contains(where: { $0 != 32 && $0 != 13 && $0 != 9 }) ? pending : nil
    }
}
