import Foundation
import Manifest
import Testing

@Suite("Example manifests")
struct ExampleTests {
    @Test("every example manifest is valid", arguments: Paths.exampleManifests())
    func exampleIsValid(name: String) throws {
        let text = Paths.text(Paths.examples.appendingPathComponent(name))
        let result = ManifestParser.parse(text: text, fileName: "examples/\(name)")
        #expect(result.printed == "")
    }

    @Test("there are example manifests to check")
    func examplesExist() {
        #expect(Paths.exampleManifests().count >= 3)
    }
}
