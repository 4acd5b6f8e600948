import Foundation
import Manifest
import Testing

/// Each `Fixtures/bad/NAME.yaml` is parsed as `tandem.yaml`; the printed diagnostics
/// must equal `NAME.expected` exactly. Set `TANDEM_UPDATE_FIXTURES=1` to rewrite the
/// expected files from the parser's output (then review the diff).
@Suite("Bad manifests")
struct BadManifestTests {
    static let sourceFolder = Paths.root.appendingPathComponent("Tests/ManifestTests/Fixtures/bad")

    @Test("a bad manifest is reported with the expected messages and positions", arguments: Paths.badFixtures())
    func badManifest(name: String) throws {
        let folder = Paths.fixtures.appendingPathComponent("bad")
        let text = Paths.text(folder.appendingPathComponent("\(name).yaml"))
        let result = ManifestParser.parse(text: text, fileName: "tandem.yaml")
        let actual = result.printed
        if ProcessInfo.processInfo.environment["TANDEM_UPDATE_FIXTURES"] == "1" {
            try (actual + "\n").write(to: Self.sourceFolder.appendingPathComponent("\(name).expected"), atomically: true, encoding: .utf8)
        }
        let expected = Paths.text(folder.appendingPathComponent("\(name).expected"))
        #expect(actual != "", "\(name).yaml was accepted")
        #expect(actual + "\n" == expected)
    }

    @Test("there are at least 25 bad manifests")
    func enoughFixtures() {
        #expect(Paths.badFixtures().count >= 25)
    }
}
