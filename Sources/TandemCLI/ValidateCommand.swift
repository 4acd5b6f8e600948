import ArgumentParser
import Manifest

/// `tandem validate [-f FILE]`: checks the manifest without a controller or an engine.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check tandem.yaml and print every problem found.",
        discussion: """
            Prints each problem as FILE:LINE:COL: key.path: message (with a hint line when \
            there is one) and exits with status 1; prints "N workloads OK" and exits 0 when \
            the manifest is valid. Needs no controller and no engine.
            """
    )

    @OptionGroup var manifest: ManifestOptions

    func run() throws {
        let loaded = try manifest.loadManifest()
        let count = loaded.workloads.count
        print("\(count) workload\(count == 1 ? "" : "s") OK")
    }
}
