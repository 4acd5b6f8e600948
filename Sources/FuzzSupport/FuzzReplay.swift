import Foundation

/// What the fuzz targets share. Each target is one executable whose `@main` calls
/// ``FuzzReplay/main(_:)`` with the function that checks one input. It has two builds:
///
/// - `fuzz/run` builds it with `-sanitize=fuzzer,address -DTANDEM_FUZZING`: `main`
///   hands the command line and the function to libFuzzer (`LLVMFuzzerRunDriver`),
///   which takes the usual libFuzzer flags and corpus folders;
/// - a normal `swift build` gives a replay driver: `main` runs the files named on
///   the command line (a folder: each file in it) through the same function once,
///   so a corpus or a crash can be replayed without libFuzzer.
///
/// Why not libFuzzer's own `main` (`LLVMFuzzerTestOneInput`, no `main` of ours): on
/// Linux SwiftPM links an executable with `--defsym main=<Module>_main`, so an
/// executable target must define its `main`; and without the fuzzer a target with
/// no `main` would not link at all.
public enum FuzzReplay {
    /// Runs the fuzzer (fuzz build) or replays the input files named in
    /// `CommandLine.arguments` (normal build), then exits.
    public static func main(_ body: @escaping ([UInt8]) -> Void) -> Never {
        #if TANDEM_FUZZING
        target = body
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput))
        #else
        replay(body)
        #endif
    }

    #if TANDEM_FUZZING
    /// The function libFuzzer's C callback calls (it cannot capture a closure).
    nonisolated(unsafe) static var target: (([UInt8]) -> Void)?
    #endif

    /// Runs every input file named in `CommandLine.arguments` through `body` once;
    /// prints how many ran and exits 0 (a failed check ends the process, as under libFuzzer).
    static func replay(_ body: ([UInt8]) -> Void) -> Never {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE|FOLDER…  (runs each input once)\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    exit(1)
                }
                body([UInt8](data))
                count += 1
            }
        }
        print("replayed \(count) input\(count == 1 ? "" : "s")")
        exit(0)
    }

    /// `path` itself, or the regular files in it (sorted) when it is a folder.
    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { path + "/" + $0 }
    }
}

#if TANDEM_FUZZING
/// The fuzzer runtime's own `main` (linked, though `--defsym` makes ours the
/// program's) needs this symbol; it checks one input the same way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzReplay.target?(data.map { [UInt8](UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// libFuzzer's entry point for a program with its own `main` (in the fuzzer runtime
/// that `-sanitize=fuzzer` links).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
