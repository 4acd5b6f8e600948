import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (a socket read, a child process) on a thread of its own,
/// so the cooperative pool — two threads on a 2-core machine — keeps serving.
public func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A port on 127.0.0.1 that nothing listens on now.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    try #require(bound, "no free port")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// An executable of this package (`tandem`, `tandem-bench`) that `swift build`
/// put beside the test bundle, or in `.build/debug`.
public func builtExecutable(_ name: String) throws -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name).path
    for candidate in [beside, Repository.root.appendingPathComponent(".build/debug/\(name)").path]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    Issue.record("the \(name) executable was not found beside the tests (\(beside)); `swift build` builds it")
    throw CancellationError()
}
