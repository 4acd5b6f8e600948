import Foundation
import Manifest

/// Paths the tests read: the repository's `examples/` and `docs/`, and the bundled fixtures.
enum Paths {
    /// The repository root (two folders up from this file's folder).
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appendingPathComponent("examples")
    static let schema = root.appendingPathComponent("docs/tandem.schema.json")
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    /// The example manifests, by file name.
    static func exampleManifests() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// The bad fixtures, by base name (each has NAME.yaml and NAME.expected).
    static func badFixtures() -> [String] {
        let folder = fixtures.appendingPathComponent("bad")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func text(_ url: URL) -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }
}

extension Result where Success == Manifest, Failure == ManifestErrors {
    /// The diagnostics as printed by `tandem validate`, or "" on success.
    var printed: String {
        switch self {
        case .success: ""
        case let .failure(errors): errors.description
        }
    }
}
