import Manifest
import Testing

@Suite("Diagnostics and names")
struct DiagnosticTests {
    @Test("a diagnostic prints as FILE:LINE:COL: key.path: message, with the hint on its own line")
    func format() {
        let plain = Diagnostic(file: "tandem.yaml", line: 14, column: 7, keyPath: "workloads.thumb.memory",
                               message: "expected a size such as 512Mi, found \"lots\"")
        #expect(plain.description == "tandem.yaml:14:7: workloads.thumb.memory: expected a size such as 512Mi, found \"lots\"")
        let hinted = Diagnostic(file: "f.yaml", line: 1, column: 2, keyPath: "a", message: "m", hint: "h")
        #expect(hinted.description == "f.yaml:1:2: a: m\n  hint: h")
        let whole = Diagnostic(file: "tandem.yaml", line: 0, column: 0, keyPath: "", message: "is empty: expected `version: 1` and `workloads:`")
        #expect(whole.description == "tandem.yaml is empty: expected `version: 1` and `workloads:`")
    }

    @Test("diagnostics sort by position and duplicates collapse")
    func sorting() {
        let a = Diagnostic(file: "f", line: 2, column: 1, keyPath: "x", message: "m")
        let b = Diagnostic(file: "f", line: 1, column: 9, keyPath: "y", message: "m")
        #expect(ManifestErrors([a, b, a]).diagnostics == [b, a])
    }

    @Test("workload and queue names are DNS labels", arguments: [
        ("thumb", true), ("a", true), ("a-1", true), ("0day", true), (String(repeating: "a", count: 63), true),
        ("", false), ("-a", false), ("a-", false), ("Thumb", false), ("a_b", false), ("a.b", false),
        (String(repeating: "a", count: 64), false), ("é", false),
    ])
    func dnsLabel(name: String, valid: Bool) {
        #expect(ManifestParser.isDNSLabel(name) == valid)
    }

    @Test("an unknown key suggests the closest known key", arguments: [
        ("memroy", "did you mean \"memory\"?"), ("timout", "did you mean \"timeout\"?"),
        ("maxeventage", "did you mean \"max_event_age\"?"), ("Replicas", "did you mean \"replicas\"?"),
        ("triger", "did you mean \"triggers\"?"),
    ])
    func suggestion(key: String, hint: String) {
        let text = "version: 1\nworkloads:\n  a:\n    image: a\n    contract: http\n    \(key): 1\n"
        guard case let .failure(errors) = ManifestParser.parse(text: text, fileName: "t.yaml") else {
            Issue.record("accepted")
            return
        }
        #expect(errors.diagnostics.map(\.hint) == [hint])
    }
}
