import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The keys `tandem up --auth sigv4 --auth-keys FILE` accepts: one key a
/// line, `ACCESS_KEY_ID SECRET_ACCESS_KEY` separated by spaces or tabs;
/// blank lines and lines starting with `#` are ignored. The file must be
/// readable by its owner only (no group or other permission bits, like an ssh
/// private key), since it holds the secrets themselves.
///
/// ```
/// # who          secret
/// AKIDTANDEMCI   3u9Qm2wF0vX+example/secret
/// ```
public enum SigV4KeyFile {
    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(GatewayError) -> [String: String] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw GatewayError("--auth-keys \(path): cannot read the key file: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw GatewayError("--auth-keys \(path): not a regular file")
        }
        try checkPermissions(mode: UInt32(info.st_mode), path: path)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw GatewayError("--auth-keys \(path): cannot read the key file: \(error.localizedDescription)", underlying: error)
        }
        return try parse(text, path: path)
    }

    /// Refuses a file that anyone but its owner may read or write.
    public static func checkPermissions(mode: UInt32, path: String) throws(GatewayError) {
        let open = mode & 0o077
        guard open == 0 else {
            let shown = String(mode & 0o777, radix: 8)
            throw GatewayError("--auth-keys \(path): the key file holds secret keys but its mode is 0\(shown) "
                + "(readable or writable by \(open & 0o007 != 0 ? "everyone" : "its group")); run `chmod 600 \(path)`")
        }
    }

    /// The keys in `text`; every problem names `path:line`.
    public static func parse(_ text: String, path: String) throws(GatewayError) -> [String: String] {
        var keys: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let place = "\(path):\(index + 1)"
            guard fields.count == 2 else {
                throw GatewayError("\(place): expected `ACCESS_KEY_ID SECRET_ACCESS_KEY`, found \(fields.count) field\(fields.count == 1 ? "" : "s")")
            }
            let id = String(fields[0])
            guard id.count <= 128, id.unicodeScalars.allSatisfy(Self.isKeyIDCharacter) else {
                throw GatewayError("\(place): an access key id is 1 to 128 letters, digits, `_`, `-` or `.`, found \"\(id)\"")
            }
            guard keys[id] == nil else { throw GatewayError("\(place): access key id \(id) appears twice") }
            keys[id] = String(fields[1])
        }
        guard !keys.isEmpty else { throw GatewayError("\(path): no keys (one a line: ACCESS_KEY_ID SECRET_ACCESS_KEY)") }
        return keys
    }

    static func isKeyIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-", ".": true
        default: false
        }
    }
}
