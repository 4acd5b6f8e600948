import NIOHTTP1

/// ``HTTPForwarding``'s rules for a service's requests and responses, on
/// NIO's HTTP/1 headers as the codecs give and take them: the proxy path
/// never converts them to HTTPTypes and back. Names are compared without
/// case and without lower-casing copies.
enum ProxyHeaders {
    /// A request's headers as its replica gets them: without the hop-by-hop
    /// ones (and those its `Connection` names), `Expect` (answered by the
    /// gateway); `Host` stays and is copied to `X-Forwarded-Host` (unless a
    /// proxy before set it), the caller's address is appended to
    /// `X-Forwarded-For`, and `X-Forwarded-Proto` is added when missing.
    static func request(_ headers: HTTPHeaders, sourceIP: String) -> HTTPHeaders {
        let named = connectionOptions(headers)
        var forwarded = HTTPHeaders()
        forwarded.reserveCapacity(headers.count + 3)
        var host: String?
        var previousFor: String?
        var hasForwardedHost = false
        var hasForwardedProto = false
        for (name, value) in headers {
            if isHopByHop(name, named: named) || equalsIgnoringCase(name, "expect") { continue }
            if equalsIgnoringCase(name, "x-forwarded-for") {
                previousFor = previousFor.map { "\($0), \(value)" } ?? value
                continue
            }
            if host == nil, equalsIgnoringCase(name, "host") { host = value }
            if equalsIgnoringCase(name, "x-forwarded-host") { hasForwardedHost = true }
            if equalsIgnoringCase(name, "x-forwarded-proto") { hasForwardedProto = true }
            forwarded.add(name: name, value: value)
        }
        if let host, !hasForwardedHost { forwarded.add(name: "X-Forwarded-Host", value: host) }
        forwarded.add(name: "X-Forwarded-For", value: previousFor.map { "\($0), \(sourceIP)" } ?? sourceIP)
        if !hasForwardedProto { forwarded.add(name: "X-Forwarded-Proto", value: "http") }
        return forwarded
    }

    /// A response's headers as the client gets them: without the hop-by-hop
    /// ones (and those its `Connection` names); its length stays.
    static func response(_ headers: HTTPHeaders) -> HTTPHeaders {
        let named = connectionOptions(headers)
        guard named.isEmpty, !headers.contains(where: { isHopByHop($0.name, named: []) }) else {
            var kept = HTTPHeaders()
            kept.reserveCapacity(headers.count)
            for (name, value) in headers where !isHopByHop(name, named: named) { kept.add(name: name, value: value) }
            return kept
        }
        return headers  // the usual answer: nothing to take out, nothing copied
    }

    /// The first value of `name`, compared without case.
    static func first(_ name: String, in headers: HTTPHeaders) -> String? {
        headers.first { equalsIgnoringCase($0.name, name) }?.value
    }

    /// Fields the `Connection` headers name beyond the usual `keep-alive` or
    /// `close`: hop-by-hop too (RFC 9110 §7.6.1). Lower-cased.
    private static func connectionOptions(_ headers: HTTPHeaders) -> [String] {
        var named: [String] = []
        for (name, value) in headers where equalsIgnoringCase(name, "connection") {
            for option in HTTPForwarding.connectionTokens(value) where !HTTPForwarding.hopByHop.contains(option) {
                named.append(option)
            }
        }
        return named
    }

    private static func isHopByHop(_ name: String, named: [String]) -> Bool {
        hopByHop.contains { equalsIgnoringCase(name, $0) } || named.contains { equalsIgnoringCase(name, $0) }
    }

    /// ``HTTPForwarding/hopByHop`` as an array: a handful of short names,
    /// compared length first.
    private static let hopByHop = Array(HTTPForwarding.hopByHop)

    /// ASCII case-insensitive equality; `lower` is lower-case already.
    static func equalsIgnoringCase(_ name: String, _ lower: String) -> Bool {
        var name = name
        var lower = lower
        return name.withUTF8 { a in
            lower.withUTF8 { b in
                guard a.count == b.count else { return false }
                for index in 0..<a.count {
                    let byte = a[index]
                    if (0x41...0x5A).contains(byte) ? byte | 0x20 != b[index] : byte != b[index] { return false }
                }
                return true
            }
        }
    }
}
