import GRDB

extension Store {
    /// Appends a placement decision or switch to the history.
    public func recordPlacement(_ placement: PlacementRecord) async throws {
        try await write("record placement") { db in try placement.insert(db) }
    }

    /// A workload's placement history, oldest first (at most `limit`, the most recent ones).
    public func placements(workload: String, limit: Int = 100) async throws -> [PlacementRecord] {
        guard limit > 0 else { throw StoreError.invalid("placements", "limit must be positive, got \(limit)") }
        return try await read("placements") { db in
            let newestFirst = try PlacementRecord
                .filter(PlacementRecord.CodingKeys.workload == workload)
                .order(PlacementRecord.CodingKeys.at.desc, Column("id").desc)
                .limit(limit)
                .fetchAll(db)
            return newestFirst.reversed()
        }
    }
}
