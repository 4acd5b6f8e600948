import Foundation
import Manifest
import Testing
import Yams

/// `docs/tandem.schema.json` must accept every example manifest and list exactly the keys the parser knows.
@Suite("JSON Schema")
struct SchemaTests {
    static func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: Paths.schema)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("the schema accepts every example manifest", arguments: Paths.exampleManifests())
    func acceptsExample(name: String) throws {
        let schema = try Self.schema()
        let text = Paths.text(Paths.examples.appendingPathComponent(name))
        let document = try #require(try Yams.load(yaml: text))
        let problems = SchemaValidator(root: schema).validate(document, against: schema, at: "")
        #expect(problems == [])
    }

    @Test("the schema refuses manifests the parser refuses for their shape", arguments: [
        "size-no-unit", "unknown-key", "unknown-top-key", "port-range", "bad-rate-plural", "bad-cron-fields",
        "bad-enum", "duration-no-unit", "rate-no-unit", "bad-name", "version-wrong", "version-missing", "trigger-two-kinds",
    ])
    func refusesBad(name: String) throws {
        let schema = try Self.schema()
        let text = Paths.text(Paths.fixtures.appendingPathComponent("bad/\(name).yaml"))
        let document = try #require(try Yams.load(yaml: text))
        #expect(SchemaValidator(root: schema).validate(document, against: schema, at: "") != [])
    }

    @Test("the schema lists every key the parser knows, at every level", arguments: ManifestParser.knownKeys.keys.sorted())
    func knownKeys(place: String) throws {
        let schema = try Self.schema()
        let definitions = try #require(schema["$defs"] as? [String: Any])
        let node = place == "manifest" ? schema : try #require(definitions[place] as? [String: Any], "no $defs/\(place)")
        let properties = try #require(node["properties"] as? [String: Any])
        #expect(Set(properties.keys) == Set(ManifestParser.knownKeys[place] ?? []))
        #expect(node["additionalProperties"] as? Bool == false)
    }

    @Test("every object in the schema's $defs is a place the parser knows")
    func noExtraPlaces() throws {
        let definitions = try #require(try Self.schema()["$defs"] as? [String: Any])
        let withProperties = definitions.filter { ($0.value as? [String: Any])?["properties"] != nil }.map(\.key)
        #expect(Set(withProperties) == Set(ManifestParser.knownKeys.keys).subtracting(["manifest"]))
    }

    @Test("the small validator itself catches each kind of violation", arguments: [
        (#"{"type": "string"}"#, "1"), (#"{"enum": ["a"]}"#, "b"), (#"{"pattern": "^a+$"}"#, "ab"),
        (#"{"properties": {"a": {}}, "additionalProperties": false}"#, "{b: 1}"),
        (#"{"required": ["a"]}"#, "{b: 1}"), (#"{"items": {"type": "integer"}}"#, "[1, x]"),
        (#"{"oneOf": [{"type": "string"}, {"type": "string"}]}"#, "x"), (#"{"anyOf": [{"type": "integer"}]}"#, "x"),
        (#"{"maximum": 3}"#, "4"), (#"{"exclusiveMinimum": 0}"#, "0"), (#"{"minProperties": 1}"#, "{}"),
        (#"{"patternProperties": {"^x": {"type": "integer"}}}"#, "{xa: b}"), (##"{"$ref": "#/$defs/n", "$defs": {"n": {"type": "null"}}}"##, "1"),
    ])
    func validatorWorks(schemaText: String, yaml: String) throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(schemaText.utf8)) as? [String: Any])
        let document = try Yams.load(yaml: yaml) ?? NSNull()
        #expect(SchemaValidator(root: schema).validate(document, against: schema, at: "") != [])
    }
}

/// The subset of JSON Schema (2020-12) that `docs/tandem.schema.json` uses.
struct SchemaValidator {
    let root: [String: Any]

    func validate(_ value: Any, against schema: [String: Any], at path: String) -> [String] {
        var problems: [String] = []
        if let reference = schema["$ref"] as? String {
            let name = String(reference.dropFirst("#/$defs/".count))
            if let target = (root["$defs"] as? [String: Any])?[name] as? [String: Any] {
                problems += validate(value, against: target, at: path)
            } else {
                problems.append("\(path): unresolved \(reference)")
            }
        }
        if let types = schema["type"] {
            let list = (types as? [String]) ?? [types as? String ?? ""]
            if !list.contains(where: { Self.isType(value, $0) }) {
                problems.append("\(path): \(Self.describe(value)) is not of type \(list)")
                return problems
            }
        }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) {
            problems.append("\(path): \(Self.describe(value)) is not one of \(options)")
        }
        if let pattern = schema["pattern"] as? String, let text = value as? String, !Self.matches(text, pattern) {
            problems.append("\(path): \"\(text)\" does not match \(pattern)")
        }
        if let number = Self.number(value) {
            if let minimum = schema["minimum"].flatMap(Self.number), number < minimum { problems.append("\(path): \(number) < \(minimum)") }
            if let maximum = schema["maximum"].flatMap(Self.number), number > maximum { problems.append("\(path): \(number) > \(maximum)") }
            if let bound = schema["exclusiveMinimum"].flatMap(Self.number), number <= bound { problems.append("\(path): \(number) <= \(bound)") }
        }
        if let text = value as? String, let minimum = schema["minLength"] as? Int, text.count < minimum {
            problems.append("\(path): shorter than \(minimum)")
        }
        if let array = value as? [Any] {
            if let minimum = schema["minItems"] as? Int, array.count < minimum { problems.append("\(path): fewer than \(minimum) items") }
            if let items = schema["items"] as? [String: Any] {
                for (index, item) in array.enumerated() { problems += validate(item, against: items, at: "\(path)[\(index)]") }
            }
        }
        if let object = Self.object(value) {
            problems += validateObject(object, against: schema, at: path)
        }
        for keyword in ["oneOf", "anyOf"] {
            guard let options = schema[keyword] as? [[String: Any]] else { continue }
            let passing = options.filter { validate(value, against: $0, at: path).isEmpty }.count
            if keyword == "oneOf" ? passing != 1 : passing == 0 {
                problems.append("\(path): \(passing) of the \(keyword) options match")
            }
        }
        return problems
    }

    private func validateObject(_ object: [String: Any], against schema: [String: Any], at path: String) -> [String] {
        var problems: [String] = []
        let properties = schema["properties"] as? [String: Any] ?? [:]
        let patterns = schema["patternProperties"] as? [String: Any] ?? [:]
        for key in (schema["required"] as? [String] ?? []) where object[key] == nil {
            problems.append("\(path): missing \(key)")
        }
        if let minimum = schema["minProperties"] as? Int, object.count < minimum { problems.append("\(path): fewer than \(minimum) keys") }
        if let maximum = schema["maxProperties"] as? Int, object.count > maximum { problems.append("\(path): more than \(maximum) keys") }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            var matched = false
            if let property = properties[key] as? [String: Any] {
                matched = true
                problems += validate(value, against: property, at: keyPath)
            }
            for (pattern, sub) in patterns where Self.matches(key, pattern) {
                matched = true
                problems += validate(value, against: sub as? [String: Any] ?? [:], at: keyPath)
            }
            if !matched, schema["additionalProperties"] as? Bool == false {
                problems.append("\(keyPath): key not allowed")
            }
        }
        return problems
    }

    static func object(_ value: Any) -> [String: Any]? {
        if let object = value as? [String: Any] { return object }
        if let object = value as? [AnyHashable: Any] {
            var result: [String: Any] = [:]
            for (key, item) in object { result["\(key)"] = item }
            return result
        }
        return nil
    }

    /// Numbers from YAML (Swift `Int`/`Double`) and from the schema's JSON (`NSNumber`); never booleans.
    static func number(_ value: Any) -> Double? {
        if type(of: value) == Bool.self { return nil }
        if let int = value as? Int, type(of: value) == Int.self { return Double(int) }
        if let double = value as? Double, type(of: value) == Double.self { return double }
        if let number = value as? NSNumber { return number.doubleValue }
        return nil
    }

    static func isType(_ value: Any, _ kind: String) -> Bool {
        switch kind {
        case "string": value is String
        case "integer": number(value).map { $0 == $0.rounded() } ?? false
        case "number": number(value) != nil
        case "boolean": type(of: value) == Bool.self
        case "array": value is [Any]
        case "object": object(value) != nil
        case "null": value is NSNull || (value as Any?) == nil
        default: false
        }
    }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        if let a = a as? String, let b = b as? String { return a == b }
        if let a = number(a), let b = number(b) { return a == b }
        return false
    }

    static func describe(_ value: Any) -> String {
        if let text = value as? String { return "\"\(text)\"" }
        return "\(value)"
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
