/// A raw HTTP/1 request as bytes, split leniently (the fuzz inputs of the gateway
/// targets are whole requests, so the corpus holds requests as they are sent):
/// `METHOD TARGET VERSION`, header lines up to an empty line, the rest is the body.
public struct RawHTTPRequest {
    public var method: String
    /// The path without the query.
    public var path: String
    /// After `?`; nil when there is none.
    public var query: String?
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// Nil when there is no request line of three words.
    public init?(_ bytes: [UInt8]) {
        var lines: [ArraySlice<UInt8>] = []
        var index = bytes.startIndex
        var bodyStart = bytes.endIndex
        while index < bytes.endIndex {
            var end = index
            while end < bytes.endIndex, bytes[end] != 10 { end += 1 }
            var line = bytes[index..<end]
            if line.last == 13 { line = line.dropLast() }
            index = end < bytes.endIndex ? end + 1 : end
            if line.isEmpty, !lines.isEmpty {
                bodyStart = index
                break
            }
            lines.append(line)
        }
        guard let first = lines.first else { return nil }
        let words = String(decoding: first, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 3 else { return nil }
        method = String(words[0])
        let target = words[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(target[0])
        query = target.count > 1 ? String(target[1]) : nil
        headers = lines.dropFirst().compactMap { line in
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { return nil }
            return (String(text[..<colon]), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = bodyStart < bytes.endIndex ? Array(bytes[bodyStart...]) : []
    }
}
