import GRDB

extension Store {
    /// Records a finished task run.
    public func recordTaskRun(_ run: TaskRunRecord) async throws {
        try await write("record task run") { db in try run.insert(db) }
    }

    /// A task's runs, newest first (at most `limit`).
    public func taskRuns(workload: String, limit: Int = 100) async throws -> [TaskRunRecord] {
        guard limit > 0 else { throw StoreError.invalid("taskRuns", "limit must be positive, got \(limit)") }
        return try await read("task runs") { db in
            try TaskRunRecord
                .filter(TaskRunRecord.CodingKeys.workload == workload)
                .order(Column("id").desc)
                .limit(limit)
                .fetchAll(db)
        }
    }
}
