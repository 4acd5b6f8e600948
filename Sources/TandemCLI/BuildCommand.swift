import ArgumentParser
import Engine
import Foundation

/// `tandem build FOLDER...`: builds image folders through the engine.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build image folders (a Dockerfile, and an optional prebuild script) through the engine.",
        discussion: """
            Each folder's executable `prebuild` runs first, from inside the folder (it compiles \
            the static binary the Dockerfile copies); then the folder is sent to the engine as \
            the build context. Images are tagged tandem/NAME:latest unless --tag is given.
            """
    )

    @Argument(help: "Image folders, e.g. images/hello.")
    var folders: [String]

    @Option(help: "Tag for the image (only with one folder).")
    var tag: String?

    @Flag(name: .shortAndLong, help: "Print only the result lines.")
    var quiet = false

    func validate() throws {
        if folders.isEmpty { throw ValidationError("name at least one image folder, e.g. images/hello") }
        if tag != nil && folders.count > 1 { throw ValidationError("--tag takes one folder; \(folders.count) were given") }
    }

    func run() async throws {
        let engine = try EngineConnection.client()
        for path in folders {
            let folder = ImageFolder(path)
            let tag = self.tag ?? folder.defaultTag
            let quiet = self.quiet
            let started = ContinuousClock.now
            do {
                let id = try await folder.build(with: engine, tag: tag) { line in
                    if !quiet { FileHandle.standardError.write(Data(line.utf8)) }
                }
                let elapsed = ContinuousClock.now - started
                print("built \(tag) (\(id.prefix(19))) in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
            } catch {
                throw CLIError("could not build \(path): \(error)")
            }
        }
    }
}

/// An error a command reports to the user as one clear line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
