import Yams

/// A value read from the manifest, with where it was written.
struct Located<Value> {
    var value: Value
    var line: Int
    var column: Int
    /// Dotted key path where the value was written (`defaults.memory` for a default).
    var keyPath: String

    func map<T>(_ transform: (Value) -> T) -> Located<T> {
        Located<T>(value: transform(value), line: line, column: column, keyPath: keyPath)
    }

    /// Whether it was written inside the workload itself rather than under `defaults:`.
    var isInWorkload: Bool { keyPath.hasPrefix("workloads.") }
}

/// One key of a mapping, with its nodes and path.
struct Field {
    var key: String
    var keyNode: Node
    var value: Node
    var keyPath: String
}

/// Reads nodes into values, collecting every problem instead of stopping at the first.
final class Reader {
    let fileName: String
    private(set) var diagnostics: [Diagnostic] = []
    private var budget: Int
    private var budgetExhausted = false

    init(fileName: String, nodeBudget: Int) {
        self.fileName = fileName
        self.budget = nodeBudget
    }

    // MARK: Reporting

    func error(at node: Node?, _ keyPath: String, _ message: String, hint: String? = nil) {
        let mark = node?.mark
        diagnostics.append(Diagnostic(file: fileName, line: mark?.line ?? 0, column: mark?.column ?? 0,
                                      keyPath: keyPath, message: message, hint: hint))
    }

    func error<T>(at located: Located<T>, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(file: fileName, line: located.line, column: located.column,
                                      keyPath: located.keyPath, message: message, hint: hint))
    }

    func located<T>(_ value: T, _ node: Node, _ keyPath: String) -> Located<T> {
        Located(value: value, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, keyPath: keyPath)
    }

    /// Counts a visited node; false once the budget is spent (reported once).
    func visit(_ node: Node) -> Bool {
        budget -= 1
        if budget >= 0 { return true }
        if !budgetExhausted {
            budgetExhausted = true
            error(at: node, "", "too many YAML nodes after expanding aliases (limit \(ManifestParser.maxNodes))")
        }
        return false
    }

    // MARK: Shapes

    /// How a node reads in "found ..." messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case let .scalar(scalar):
            if isNull(node) { return "nothing" }
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(37)) + "..." : scalar.string
            return "\"\(text)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// A plain `~`, `null` or nothing (checked directly: resolving tags runs regular expressions).
    static func isNull(_ node: Node) -> Bool {
        guard case let .scalar(scalar) = node else { return false }
        if scalar.style == .plain {
            switch scalar.string {
            case "", "~", "null", "Null", "NULL": return true
            default: return false
            }
        }
        return scalar.style == .any && scalar.string.isEmpty
    }

    /// The keys of a mapping node, in order, with `<<` merge keys applied (keys written
    /// in the mapping win). Reports a non-mapping and unknown keys (with a suggestion).
    /// `allowsNull`: a null value reads as an empty mapping.
    func fields(of node: Node, _ keyPath: String, allowed: [String], allowsNull: Bool = false,
                what: String = "a mapping") -> [Field]? {
        guard visit(node) else { return nil }
        if allowsNull && Self.isNull(node) { return [] }
        guard case let .mapping(mapping) = node else {
            error(at: node, keyPath, "expected \(what), found \(Self.describe(node))")
            return nil
        }
        var result: [Field] = []
        var merged: [Field] = []
        for (keyNode, value) in mapping {
            guard visit(keyNode) else { return nil }
            guard case let .scalar(scalar) = keyNode, !Self.isNull(keyNode) else {
                error(at: keyNode, keyPath, "expected a key name, found \(Self.describe(keyNode))")
                continue
            }
            let key = scalar.string
            if key == "<<" && scalar.style == .plain {
                merged += mergeSources(value, keyPath, allowed: allowed)
                continue
            }
            let path = keyPath.isEmpty ? key : "\(keyPath).\(key)"
            guard allowed.contains(key) || allowed.contains("*") else {
                error(at: keyNode, path, "unknown key \"\(key)\"", hint: Self.suggestion(for: key, among: allowed))
                continue
            }
            result.append(Field(key: key, keyNode: keyNode, value: value, keyPath: path))
        }
        for field in merged where !result.contains(where: { $0.key == field.key }) {
            result.append(field)
        }
        return result
    }

    private func mergeSources(_ value: Node, _ keyPath: String, allowed: [String]) -> [Field] {
        var sources: [Node] = []
        switch value {
        case .mapping: sources = [value]
        case let .sequence(sequence): sources = Array(sequence)
        default:
            error(at: value, keyPath, "a merge key << needs a mapping or a list of mappings, found \(Self.describe(value))")
            return []
        }
        var result: [Field] = []
        for source in sources {
            for field in fields(of: source, keyPath, allowed: allowed) ?? []
            where !result.contains(where: { $0.key == field.key }) {
                result.append(field)
            }
        }
        return result
    }

    /// `did you mean "x"?` for the closest allowed key, or the list of allowed keys.
    static func suggestion(for key: String, among allowed: [String]) -> String? {
        let candidates = allowed.filter { $0 != "*" }
        if candidates.isEmpty { return nil }
        let scored = candidates.map { ($0, editDistance(key.lowercased(), $0)) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(1, min(3, best.0.count / 3)) {
            return "did you mean \"\(best.0)\"?"
        }
        return "valid keys here: " + candidates.joined(separator: ", ")
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
                // Transposition counts as one edit ("memroy" → "memory").
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous[j - 1])
                }
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    // MARK: Scalars

    /// A non-null scalar's text, or nil after reporting `expected \(what)`.
    func scalarText(_ node: Node, _ keyPath: String, what: String) -> String? {
        guard visit(node) else { return nil }
        guard case let .scalar(scalar) = node, !Self.isNull(node) else {
            error(at: node, keyPath, "expected \(what), found \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    func string(_ field: Field, what: String = "a string") -> Located<String>? {
        guard let text = scalarText(field.value, field.keyPath, what: what) else { return nil }
        return located(text, field.value, field.keyPath)
    }

    func int(_ field: Field, in range: ClosedRange<Int>, what: String = "a whole number") -> Located<Int>? {
        guard let text = scalarText(field.value, field.keyPath, what: what) else { return nil }
        guard let value = Int(text.trimmingASCIISpaces()) else {
            error(at: field.value, field.keyPath, "expected \(what), found \(Self.describe(field.value))")
            return nil
        }
        guard range.contains(value) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "\(range.lowerBound)…\(range.upperBound)"
            error(at: field.value, field.keyPath, "must be \(bound), found \(value)")
            return nil
        }
        return located(value, field.value, field.keyPath)
    }

    func double(_ field: Field, what: String) -> Located<Double>? {
        guard let text = scalarText(field.value, field.keyPath, what: what) else { return nil }
        guard let value = Double(text.trimmingASCIISpaces()), value.isFinite else {
            error(at: field.value, field.keyPath, "expected \(what), found \(Self.describe(field.value))")
            return nil
        }
        return located(value, field.value, field.keyPath)
    }

    func bool(_ field: Field) -> Located<Bool>? {
        guard let text = scalarText(field.value, field.keyPath, what: "true or false") else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return located(true, field.value, field.keyPath)
        case "false", "no", "off": return located(false, field.value, field.keyPath)
        default:
            error(at: field.value, field.keyPath, "expected true or false, found \(Self.describe(field.value))")
            return nil
        }
    }

    func choice<E: RawRepresentable & CaseIterable>(_ field: Field, _: E.Type) -> Located<E>? where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        let list = names.dropLast().joined(separator: ", ") + " or " + names.last!
        guard let text = scalarText(field.value, field.keyPath, what: list) else { return nil }
        guard let value = E(rawValue: text) else {
            let hint = E(rawValue: text.lowercased()) != nil ? "write \(text.lowercased())"
                : Self.suggestion(for: text, among: names).flatMap { $0.hasPrefix("did") ? $0 : nil }
            error(at: field.value, field.keyPath, "expected \(list), found \(Self.describe(field.value))", hint: hint)
            return nil
        }
        return located(value, field.value, field.keyPath)
    }

    func size(_ field: Field) -> Located<ByteSize>? {
        guard let text = scalarText(field.value, field.keyPath, what: "a size such as 512Mi") else { return nil }
        do {
            return located(try ByteSize(parsing: text), field.value, field.keyPath)
        } catch {
            self.error(at: field.value, field.keyPath, error.message, hint: error.hint)
            return nil
        }
    }

    func duration(_ field: Field) -> Located<Duration>? {
        guard let text = scalarText(field.value, field.keyPath, what: "a duration such as 30s") else { return nil }
        do {
            return located(try Duration(parsing: text), field.value, field.keyPath)
        } catch {
            self.error(at: field.value, field.keyPath, error.message, hint: error.hint)
            return nil
        }
    }

    func rate(_ field: Field) -> Located<Rate>? {
        guard let text = scalarText(field.value, field.keyPath, what: "a rate such as 5/s") else { return nil }
        do {
            return located(try Rate(parsing: text), field.value, field.keyPath)
        } catch {
            self.error(at: field.value, field.keyPath, error.message, hint: error.hint)
            return nil
        }
    }

    func schedule(_ field: Field) -> Located<Schedule>? {
        guard let text = scalarText(field.value, field.keyPath, what: "a schedule such as \"rate(5 minutes)\"") else { return nil }
        do {
            return located(try Schedule(parsing: text), field.value, field.keyPath)
        } catch {
            self.error(at: field.value, field.keyPath, error.message, hint: error.hint)
            return nil
        }
    }

    /// A list of strings, or one string split into words like a shell would (quotes group words).
    func words(_ field: Field) -> Located<[String]>? {
        guard visit(field.value) else { return nil }
        switch field.value {
        case let .sequence(sequence):
            var words: [String] = []
            var ok = true
            for (index, item) in sequence.enumerated() {
                if let text = scalarText(item, "\(field.keyPath)[\(index)]", what: "a string") {
                    words.append(text)
                } else {
                    ok = false
                }
            }
            if words.isEmpty && ok {
                error(at: field.value, field.keyPath, "expected at least one word, found an empty list")
                return nil
            }
            return ok ? located(words, field.value, field.keyPath) : nil
        case let .scalar(scalar) where !Self.isNull(field.value):
            guard let words = Self.splitWords(scalar.string), !words.isEmpty else {
                error(at: field.value, field.keyPath, "expected a command such as [\"/bin/app\", \"--flag\"], found \(Self.describe(field.value))",
                      hint: "check the quotes, or write the command as a list")
                return nil
            }
            return located(words, field.value, field.keyPath)
        default:
            error(at: field.value, field.keyPath, "expected a list of strings, found \(Self.describe(field.value))")
            return nil
        }
    }

    /// Splits on spaces, keeping single- and double-quoted runs together; nil when a quote is not closed.
    static func splitWords(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" || character == "\n" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if quote != nil { return nil }
        if inWord { words.append(current) }
        return words
    }
}
