import Yams

/// Parses and validates the text of a `tandem.yaml` (pure: no file system access).
public enum ManifestParser {
    /// Largest manifest accepted: 16 MiB ("file too large" beyond it).
    public static let maxBytes = 16 << 20
    /// Most YAML nodes read, aliases expanded (guards against "billion laughs").
    public static let maxNodes = 4_000_000

    /// Every key the parser knows, by place in the manifest. The names match the
    /// `$defs` of `docs/tandem.schema.json` (`manifest` is the top level).
    public static let knownKeys: [String: [String]] = [
        "manifest": ["version", "defaults", "pricing", "queues", "workloads"],
        "workload": [
            "image", "build", "contract", "mode", "handler", "command", "entrypoint", "env", "port",
            "memory", "cpus", "timeout", "tmp", "concurrency", "replicas", "health", "retries",
            "max_event_age", "dead_letter", "state", "triggers", "traffic",
        ],
        "build": ["context", "dockerfile"],
        "concurrency": ["reserved", "provisioned", "per_replica"],
        "replicas": ["min", "max"],
        "health": ["http", "command", "interval", "timeout", "retries", "start_period"],
        "trigger": ["http", "schedule", "watch", "queue"],
        "httpTrigger": ["path", "methods"],
        "watchTrigger": ["path", "pattern"],
        "queueTrigger": ["name", "batch_size"],
        "traffic": ["rate", "duration", "pattern", "latency_slo", "streaming"],
        "queue": ["visibility_timeout", "max_receive_count", "dead_letter"],
        "pricing": ["lambda_per_request", "lambda_per_gb_second", "fargate_per_vcpu_hour", "fargate_per_gb_hour"],
    ]

    /// HTTP methods a route may list (`ANY` matches every method).
    public static let httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY"]

    /// Parses `text`; `fileName` is the path as the user gave it, used in every diagnostic.
    public static func parse(text: String, fileName: String) -> Result<Manifest, ManifestErrors> {
        func whole(_ message: String, line: Int = 0, column: Int = 0, hint: String? = nil) -> Result<Manifest, ManifestErrors> {
            .failure(ManifestErrors([Diagnostic(file: fileName, line: line, column: column, keyPath: "", message: message, hint: hint)]))
        }
        let byteCount = text.utf8.count
        if byteCount > maxBytes {
            return whole("is too large: \(megabytes(byteCount)) (limit \(maxBytes >> 20) MB)")
        }
        if isBlank(text) {
            return whole("is empty: expected `version: 1` and `workloads:`")
        }
        if let (line, column) = aliasUsedAsKey(in: text) {
            return whole("an alias cannot be used as a mapping key", line: line, column: column)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            return .failure(ManifestErrors([diagnostic(for: error, fileName: fileName, text: text)]))
        } catch {
            return whole("is not valid YAML: \(error)")
        }
        guard let root else { return whole("is empty: expected `version: 1` and `workloads:`") }
        let reader = Reader(fileName: fileName, nodeBudget: maxNodes)
        let manifest = ManifestBuilder(reader: reader).build(root)
        if let manifest, reader.diagnostics.isEmpty { return .success(manifest) }
        return .failure(ManifestErrors(reader.diagnostics))
    }

    static func megabytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10) MB"
    }

    /// Only spaces, newlines and comments.
    static func isBlank(_ text: String) -> Bool {
        var inComment = false
        for scalar in text.unicodeScalars {
            if inComment {
                if scalar == "\n" { inComment = false }
            } else if scalar == "#" {
                inComment = true
            } else if !(scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{FEFF}") {
                return false
            }
        }
        return true
    }

    /// Where an alias (`*name`) is used as a mapping key, if anywhere. Yams hashes keys
    /// to find duplicates, and hashing an alias of a deeply nested anchor takes
    /// exponential time, so such keys are refused before composing.
    static func aliasUsedAsKey(in text: String) -> (line: Int, column: Int)? {
        var line = 1
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        while let content = lines.next() {
            defer { line += 1 }
            guard content.contains("*") else { continue }
            let scalars = Array(content.unicodeScalars)
            var index = 0
            var quote: Unicode.Scalar?
            while index < scalars.count {
                let scalar = scalars[index]
                if let open = quote {
                    if scalar == open { quote = nil }
                    index += 1
                    continue
                }
                if scalar == "#" && (index == 0 || scalars[index - 1] == " ") { break }
                if (scalar == "\"" || scalar == "'") && (index == 0 || " \t[{,:-?".unicodeScalars.contains(scalars[index - 1])) {
                    quote = scalar
                    index += 1
                    continue
                }
                if scalar == "*" && (index == 0 || " \t[{,?".unicodeScalars.contains(scalars[index - 1])) {
                    let start = index
                    index += 1
                    while index < scalars.count, isAnchorScalar(scalars[index]) { index += 1 }
                    var after = index
                    while after < scalars.count, scalars[after] == " " || scalars[after] == "\t" { after += 1 }
                    let explicitKey = start >= 2 && scalars[start - 1] == " " && scalars[start - 2] == "?"
                    if index > start + 1,
                       explicitKey || (after < scalars.count && scalars[after] == ":") {
                        return (line, start + 1)
                    }
                    continue
                }
                index += 1
            }
        }
        return nil
    }

    private static func isAnchorScalar(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))) || scalar == "-" || scalar == "_"
    }

    static func diagnostic(for error: YamlError, fileName: String, text: String) -> Diagnostic {
        func make(_ mark: Mark?, _ message: String, hint: String? = nil) -> Diagnostic {
            make(line: mark?.line ?? 0, column: mark?.column ?? 0, message, hint: hint)
        }
        func make(line: Int, column: Int, _ message: String, hint: String? = nil) -> Diagnostic {
            Diagnostic(file: fileName, line: line, column: column, keyPath: "", message: message, hint: hint)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func character(at mark: Mark) -> Unicode.Scalar? {
            guard mark.line >= 1, mark.line <= lines.count else { return nil }
            let scalars = Array(lines[mark.line - 1].unicodeScalars)
            return mark.column >= 1 && mark.column <= scalars.count ? scalars[mark.column - 1] : nil
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context, (context.mark.line, context.mark.column) != (mark.line, mark.column) {
                message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
            }
            let hint = character(at: mark) == "\t" ? "indent with spaces: YAML does not allow tabs for indentation" : nil
            return make(mark, message, hint: hint)
        case let .reader(problem, offset, _, _):
            return make(nil, "is not UTF-8 text: \(problem)" + (offset.map { " at byte \($0)" } ?? ""))
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams gives the first occurrence; point at the repeat, written at the same column below it.
            let first = context.mark
            let key = duplicates.first ?? ""
            for index in first.line..<lines.count {
                let scalars = Array(lines[index].unicodeScalars)
                let column = first.column - 1
                guard scalars.count > column, scalars[..<column].allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
                var rest = String(String.UnicodeScalarView(scalars[column...]))
                if rest.hasPrefix("\"\(key)\"") || rest.hasPrefix("'\(key)'") { rest = String(rest.dropFirst(key.count + 2)) }
                else if rest.hasPrefix(key) { rest = String(rest.dropFirst(key.count)) }
                else { continue }
                if rest.trimmingASCIISpaces().hasPrefix(":") {
                    return make(line: index + 1, column: first.column,
                                "duplicate key \"\(key)\" (first written at line \(first.line))")
                }
            }
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return make(first, "duplicate key \(keys) in one mapping")
        case .memory:
            return make(nil, "is too large to parse")
        default:
            return make(nil, "is not valid YAML: \(error)")
        }
    }

    /// DNS label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    public static func isDNSLabel(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...63).contains(scalars.count) else { return false }
        func ok(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
        guard ok(scalars.first!), ok(scalars.last!) else { return false }
        return scalars.allSatisfy { ok($0) || $0 == "-" }
    }
}
