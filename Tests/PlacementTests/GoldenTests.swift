import Foundation
import Manifest
import Testing

@testable import Placement

/// `tandem plan` and `tandem explain` for every `examples/*.yaml`, compared
/// with `Tests/PlacementTests/Golden/`. Regenerate with
/// `TANDEM_UPDATE_GOLDEN=1 swift test --filter PlacementTests.GoldenTests`.
@Suite("Golden plan outputs")
struct GoldenTests {
    /// A fixed machine, so the outputs do not depend on where tests run.
    static let machine = MachineCapacity(memoryMiB: 16_384)

    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appendingPathComponent("examples")
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func exampleNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test("There are example manifests to check")
    func examplesExist() {
        #expect(!Self.exampleNames().isEmpty)
    }

    @Test("plan's table, JSON and explanations match the golden files", arguments: exampleNames())
    func plan(example: String) throws {
        let path = Self.examples.appendingPathComponent(example + ".yaml").path
        let manifest: Manifest
        do {
            manifest = try ManifestLoader.load(path: path)
        } catch {
            Issue.record("examples/\(example).yaml does not load: \(error)")
            return
        }
        let model = PlacementModel()
        let decisions = model.decide(manifest, machine: Self.machine)
        let plan = Plan(decisions: decisions)
        try Self.compare(plan.table(), with: "\(example).plan.txt")
        try Self.compare(plan.json(), with: "\(example).plan.json")
        let prices = Prices(pricing: manifest.pricing)
        let explanations = zip(manifest.workloads, decisions).map { workload, decision in
            model.explanation(of: decision, for: PlacementInput(workload: workload), prices: prices)
        }
        try Self.compare(explanations.joined(separator: "\n"), with: "\(example).explain.txt")
    }

    @Test("plan's JSON is valid JSON with one entry per workload", arguments: exampleNames())
    func json(example: String) throws {
        let path = Self.examples.appendingPathComponent(example + ".yaml").path
        guard let manifest = try? ManifestLoader.load(path: path) else { return }
        let text = Plan(decisions: PlacementModel().decide(manifest, machine: Self.machine)).json()
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let workloads = object?["workloads"] as? [[String: Any]]
        #expect(workloads?.count == manifest.workloads.count)
        #expect(workloads?.map { $0["name"] as? String } == manifest.workloads.map(\.name))
    }

    static func compare(_ actual: String, with name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["TANDEM_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file Golden/\(name); run with TANDEM_UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        if actual != expected {
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(actualLines.count, expectedLines.count)
            Issue.record(
                """
                Golden/\(name) differs at line \(first + 1) (TANDEM_UPDATE_GOLDEN=1 regenerates it):
                expected: \(first < expectedLines.count ? String(expectedLines[first]) : "<end>")
                actual:   \(first < actualLines.count ? String(actualLines[first]) : "<end>")
                """, sourceLocation: sourceLocation)
        }
    }
}
