import Foundation
@testable import Store

/// A fresh folder under the system temp dir, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tandem-store-tests-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url.path)
}

/// A file store at `<dir>/.tandem/tandem.sqlite`, closed after `body`.
func withFileStore<T>(
    durability: Store.Durability = .full, _ body: (Store, String) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { dir in
        let path = Store.defaultPath(projectDirectory: dir)
        let store = try Store.open(path: path, durability: durability)
        defer { try? store.close() }
        return try await body(store, path)
    }
}

func invocation(
    _ n: Int, workload: String = "thumb", mode: RunMode = .function, startedAt: Int64? = nil,
    durationMs: Double = 10, memory: Int = 1024, cold: Bool = false,
    outcome: InvocationRecord.Outcome = .success
) -> InvocationRecord {
    InvocationRecord(
        requestID: "req-\(n)", workload: workload, mode: mode, trigger: .invoke,
        startedAt: startedAt ?? Int64(1_000_000 + n), durationMs: durationMs, memorySizeMB: memory,
        initDurationMs: cold ? 120.5 : nil, cold: cold, outcome: outcome)
}

extension Data {
    init(_ text: String) { self = Data(text.utf8) }
}
