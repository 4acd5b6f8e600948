/// One problem found in a manifest, with where it is.
public struct Diagnostic: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The manifest's path as the user gave it.
    public var file: String
    /// Line, from 1 (0 when the problem is about the whole file).
    public var line: Int
    /// Column, from 1, counted in Unicode scalars (0 when about the whole file).
    public var column: Int
    /// Dotted path of the key, such as `workloads.thumb.memory`; empty for syntax errors.
    public var keyPath: String
    /// What is wrong.
    public var message: String
    /// What to do about it, when there is something to suggest.
    public var hint: String?

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, keyPath: String, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.hint = hint
    }

    /// `FILE:LINE:COL: key.path: message` (`FILE message` for the whole file), then `  hint: ...` on a second line when there is a hint.
    public var description: String {
        // A problem with the whole file reads as a sentence about it: "tandem.yaml is empty: ...".
        var text = line > 0 ? "\(file):\(line):\(column): " : "\(file) "
        if !keyPath.isEmpty { text += "\(keyPath): " }
        text += message
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// By position, then key path, then message.
    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        (lhs.line, lhs.column, lhs.keyPath, lhs.message) < (rhs.line, rhs.column, rhs.keyPath, rhs.message)
    }
}

/// Every problem found in a manifest, sorted by position.
public struct ManifestErrors: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems, sorted by position; never empty.
    public var diagnostics: [Diagnostic]

    /// Creates the error from diagnostics (sorted and de-duplicated here).
    public init(_ diagnostics: [Diagnostic]) {
        var seen = Set<Diagnostic>()
        self.diagnostics = diagnostics.sorted().filter { seen.insert($0).inserted }
    }

    /// One diagnostic per line (hints on their own line).
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Why ``ManifestLoader/load(path:)`` failed.
public enum ManifestLoadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file could not be read (missing, unreadable, not UTF-8).
    case unreadable(path: String, reason: String)
    /// The file was read but is not a valid manifest.
    case invalid(ManifestErrors)

    /// A message for the user.
    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): \(reason)"
        case let .invalid(errors): errors.description
        }
    }
}
