import ArgumentParser
import Foundation
import Manifest

/// `-f/--file PATH`: the manifest to read, shared by `validate`, `plan` and `explain`.
struct ManifestOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("file")],
            help: ArgumentHelp("Path of the manifest.", valueName: "FILE"))
    var file: String = ManifestLoader.defaultPath

    /// Loads the manifest; on failure prints every diagnostic to standard error, one per
    /// line (`FILE:LINE:COL: key.path: message`, hints indented below), and exits with status 1.
    func loadManifest() throws -> Manifest {
        do {
            return try ManifestLoader.load(path: file)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode.failure
        }
    }
}
