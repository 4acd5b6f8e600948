import Foundation
import Manifest
import Testing

/// Inputs the fuzzer (fuzz/run, target FuzzManifest) found crashing the parser, fed
/// exactly as found; each must now give a clear diagnostic. The same inputs are
/// seeds in fuzz/corpus/FuzzManifest/, which the last test replays whole.
@Suite("Fuzz regressions: manifest parser")
struct ManifestFuzzRegressionTests {
    /// fuzz/corpus/FuzzManifest/crash-crlf-duplicate-key.yaml: a CRLF file with a
    /// repeated key. The duplicate-key diagnostic split the text on "\n", which a
    /// CRLF text does not contain as a `Character` (one line), and read line 2 onwards
    /// of it: "Range requires lowerBound <= upperBound".
    static let crlfDuplicateKey = "vsion: 1\r\nworkloads:\r\n  api:\r\n    image: api:1\r\n    conersion: 1\r\n"
        + "workloads:\r\n  api:\r\n    image: api:1\r\n    contract: http\r\n    memory: 1.5\r\n"

    @Test("a CRLF manifest with a repeated key is reported at the repeat, not a crash")
    func crlfDuplicateKey() {
        let result = ManifestParser.parse(text: Self.crlfDuplicateKey, fileName: "tandem.yaml")
        #expect(result.printed == #"tandem.yaml:6:1: duplicate key "workloads" (first written at line 2)"#)
    }

    @Test("line breaks do not change where a repeated key is reported", arguments: ["\r\n", "\r", "\u{2028}"])
    func lineBreaks(_ lineBreak: String) {
        let lf = Self.crlfDuplicateKey.replacingOccurrences(of: "\r\n", with: "\n")
        let other = lf.replacingOccurrences(of: "\n", with: lineBreak)
        #expect(ManifestParser.parse(text: other, fileName: "tandem.yaml").printed
            == ManifestParser.parse(text: lf, fileName: "tandem.yaml").printed)
    }

    @Test("every seed of the fuzz corpus parses or gives diagnostics")
    func corpus() throws {
        let folder = Paths.root.appendingPathComponent("fuzz/corpus/FuzzManifest")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count >= 10)
        for name in names {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            guard let text = String(data: data, encoding: .utf8) else { continue }
            if case .failure(let errors) = ManifestParser.parse(text: text, fileName: name) {
                #expect(!errors.diagnostics.isEmpty, "\(name)")
            }
        }
    }
}
