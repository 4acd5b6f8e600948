import Foundation

/// Reads a manifest file and parses it. The only place in `Manifest` that touches the file system.
public enum ManifestLoader {
    /// The default manifest path: `./tandem.yaml`.
    public static let defaultPath = "tandem.yaml"

    /// Reads and parses the manifest at `path` (relative to the working directory, or absolute).
    /// Diagnostics name the file as `path` was given.
    public static func load(path: String) throws(ManifestLoadError) -> Manifest {
        let text = try readText(path: path)
        switch ManifestParser.parse(text: text, fileName: path) {
        case let .success(manifest): return manifest
        case let .failure(errors): throw .invalid(errors)
        }
    }

    /// The file's text, refusing files over ``ManifestParser/maxBytes`` before reading them.
    public static func readText(path: String) throws(ManifestLoadError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file" + (path == defaultPath
                ? " (run in the folder that holds tandem.yaml, or pass -f PATH)" : ""))
        }
        if isDirectory.boolValue {
            throw .unreadable(path: path, reason: "is a folder, not a manifest file")
        }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            // Read at most one byte past the limit: enough to know the file is too large.
            data = try handle.read(upToCount: ManifestParser.maxBytes + 1) ?? Data()
        } catch {
            throw .unreadable(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        if data.count > ManifestParser.maxBytes {
            throw .invalid(ManifestErrors([Diagnostic(file: path, line: 0, column: 0, keyPath: "",
                message: "is too large (limit \(ManifestParser.maxBytes >> 20) MB)")]))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalid(ManifestErrors([Diagnostic(file: path, line: 0, column: 0, keyPath: "",
                message: "is not UTF-8 text: expected a YAML manifest")]))
        }
        return text
    }
}
