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
            "max_event_age", "dead_letter", "state", "stop_timeout", "volume", "triggers", "traffic",
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
            // The basic resolver tags every scalar as a string: this parser reads scalars
            // itself, and Yams' default resolver runs regular expressions on every key.
            root = try Yams.compose(yaml: text, .basic)
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
        let star = UInt8(ascii: "*")
        let bytes = Array(text.utf8)
        guard bytes.contains(star) else { return nil }
        var lineStart = 0
        var line = 1
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            defer {
                lineStart = lineEnd + 1
                line += 1
            }
            let content = bytes[lineStart..<lineEnd]
            guard content.contains(star) else { continue }
            if let offset = aliasKeyOffset(in: Array(content)) {
                // Columns count Unicode scalars, like Yams' marks: skip UTF-8 continuation bytes.
                let column = content.prefix(offset).filter { $0 & 0xC0 != 0x80 }.count + 1
                return (line, column)
            }
        }
        return nil
    }

    /// Byte offset of an alias used as a key in one line, if any.
    private static func aliasKeyOffset(in scalars: [UInt8]) -> Int? {
        func isOneOf(_ byte: UInt8, _ set: String) -> Bool { set.utf8.contains(byte) }
        var index = 0
        var quote: UInt8?
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == open { quote = nil }
                index += 1
                continue
            }
            if scalar == UInt8(ascii: "#") && (index == 0 || scalars[index - 1] == UInt8(ascii: " ")) { break }
            if isOneOf(scalar, "\"'") && (index == 0 || isOneOf(scalars[index - 1], " \t[{,:-?")) {
                quote = scalar
                index += 1
                continue
            }
            if scalar == UInt8(ascii: "*") && (index == 0 || isOneOf(scalars[index - 1], " \t[{,?")) {
                let start = index
                index += 1
                while index < scalars.count, isAnchorByte(scalars[index]) { index += 1 }
                var after = index
                while after < scalars.count, isOneOf(scalars[after], " \t") { after += 1 }
                let explicitKey = start >= 2 && scalars[start - 1] == UInt8(ascii: " ") && scalars[start - 2] == UInt8(ascii: "?")
                if index > start + 1, explicitKey || (after < scalars.count && scalars[after] == UInt8(ascii: ":")) {
                    return start
                }
                continue
            }
            index += 1
        }
        return nil
    }

    /// A line break for YAML: LF, CR, CRLF (one `Character`), NEL, LS, PS.
    static func isYAMLLineBreak(_ character: Character) -> Bool {
        ["\n", "\r\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(character)
    }

    private static func isAnchorByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    static func diagnostic(for error: YamlError, fileName: String, text: String) -> Diagnostic {
        func make(_ mark: Mark?, _ message: String, hint: String? = nil) -> Diagnostic {
            make(line: mark?.line ?? 0, column: mark?.column ?? 0, message, hint: hint)
        }
        func make(line: Int, column: Int, _ message: String, hint: String? = nil) -> Diagnostic {
            Diagnostic(file: fileName, line: line, column: column, keyPath: "", message: message, hint: hint)
        }
        // Lines as YAML counts them (Yams' marks are 1-based in these): a Swift
        // `Character` "\r\n" is not "\n", so splitting on "\n" alone kept a CRLF file
        // as one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: isYAMLLineBreak)
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
            for index in min(max(first.line, 0), lines.count)..<lines.count {
                let scalars = Array(lines[index].unicodeScalars)
                let column = first.column - 1
                guard column >= 0, scalars.count > column, scalars[..<column].allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
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
