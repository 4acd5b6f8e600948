import Foundation
import Synchronization

/// tandem's image folders: a folder with a Dockerfile, and optionally an
/// executable `prebuild` that prepares what the Dockerfile copies (a static
/// binary compiled on this machine: no registry can be reached, so images are
/// built `FROM scratch` from local files).
public struct ImageFolder: Sendable {
    public let directory: URL

    public init(_ path: String, relativeTo base: URL? = nil) {
        if path.hasPrefix("/") {
            directory = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        } else {
            let root = base ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            directory = root.appendingPathComponent(path, isDirectory: true).standardizedFileURL
        }
    }

    /// The folder's name, e.g. `hello` for `images/hello`.
    public var name: String { directory.lastPathComponent }

    /// The tag tandem gives the folder's image: `tandem/NAME:latest`.
    public var defaultTag: String { "tandem/\(Self.sanitized(name)):latest" }

    /// Runs `prebuild` (if any), then builds the image through the engine.
    /// - Returns: the image id.
    @discardableResult
    public func build(
        with engine: EngineClient, tag: String? = nil, progress: (@Sendable (String) -> Void)? = nil
    ) async throws -> String {
        let operation = "build \(directory.path)"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError(.invalidArgument, operation: operation, message: "no image folder at \(directory.path)")
        }
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("Dockerfile").path) else {
            throw EngineError(.invalidArgument, operation: operation, message: "\(directory.path) has no Dockerfile")
        }
        try await runPrebuild(progress: progress)
        var options = BuildOptions()
        options.tags = [tag ?? defaultTag]
        return try await engine.buildImage(contextDirectory: directory, options: options) { message in
            if let line = message.stream { progress?(line) }
        }
    }

    /// Runs the folder's `prebuild`, from inside the folder, and fails with its
    /// output when it fails.
    public func runPrebuild(progress: (@Sendable (String) -> Void)? = nil) async throws {
        let script = directory.appendingPathComponent("prebuild")
        guard FileManager.default.isExecutableFile(atPath: script.path) else { return }
        progress?("prebuild: \(script.path)\n")
        let process = Process()
        process.executableURL = script
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let collected = OutputCollector()
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty {
                collected.append(data)
                progress?(String(decoding: data, as: UTF8.self))
            }
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: EngineError(
                    .invalidArgument, operation: "prebuild \(script.path)", message: "could not run prebuild: \(error)"))
            }
        }
        output.fileHandleForReading.readabilityHandler = nil
        collected.append(output.fileHandleForReading.readDataToEndOfFile())
        guard status == 0 else {
            let tail = String(decoding: collected.data.suffix(2000), as: UTF8.self)
            throw EngineError(.buildFailed, operation: "prebuild \(script.path)",
                              message: "prebuild exited with status \(status):\n\(tail)")
        }
    }

    static func sanitized(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        let lowered = name.lowercased().map { allowed.contains($0) ? $0 : "-" }
        return String(lowered)
    }
}

/// Collects a child process's output from its readability handler.
private final class OutputCollector: Sendable {
    private let buffer = Mutex(Data())

    func append(_ data: Data) { buffer.withLock { $0.append(data) } }

    var data: Data { buffer.withLock { $0 } }
}
