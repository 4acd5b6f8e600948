import GRDB

extension Store {
    /// Appends one invocation to the ledger. Returns once it is committed.
    ///
    /// Group commit: concurrent calls share one transaction (see `ThroughputTests` for
    /// the rates). Not cancellable: once called, the row is written.
    public func record(_ record: InvocationRecord) async throws {
        try await ledger.record([record])
    }

    /// Appends invocations in one transaction (all or none), with the same group commit.
    public func record(contentsOf records: [InvocationRecord]) async throws {
        guard !records.isEmpty else { return }
        try await ledger.record(records)
    }

    /// A workload's invocations that started at or after `since`, oldest first, at most `limit`.
    public func records(workload: String, since: Int64 = 0, limit: Int = 1000) async throws -> [InvocationRecord] {
        guard limit > 0 else { throw StoreError.invalid("records", "limit must be positive, got \(limit)") }
        return try await read("records") { db in
            try InvocationRecord
                .filter(InvocationRecord.CodingKeys.workload == workload && InvocationRecord.CodingKeys.startedAt >= since)
                .order(InvocationRecord.CodingKeys.startedAt, Column("id"))
                .limit(limit)
                .fetchAll(db)
        }
    }

    /// Aggregates over a workload's invocations that started at or after `since`
    /// (in one mode, or all when `mode` is `nil`).
    ///
    /// Counts and totals cover every matching invocation. Duration percentiles are
    /// nearest-rank over the `percentileSampleLimit` most recent ones, so that the
    /// cost stays bounded on a large ledger.
    public func summary(
        workload: String, mode: RunMode? = nil, since: Int64 = 0, percentileSampleLimit: Int = 100_000
    ) async throws -> InvocationSummary {
        guard percentileSampleLimit > 0 else {
            throw StoreError.invalid("summary", "percentileSampleLimit must be positive, got \(percentileSampleLimit)")
        }
        typealias Columns = InvocationRecord.CodingKeys
        return try await read("summary") { db in
            var filter = Columns.workload == workload && Columns.startedAt >= since
            if let mode { filter = filter && Columns.mode == mode.rawValue }
            let matching = InvocationRecord.filter(filter)

            var summary = InvocationSummary()
            let totals = try Row.fetchAll(db, matching
                .select(
                    Columns.outcome,
                    count(SQL("*")).forKey("n"),
                    sum(Columns.cold).forKey("cold"),
                    sum(Columns.gbSeconds).forKey("gbs"),
                    sum(Columns.billedDurationMs).forKey("billed"))
                .group(Columns.outcome))
            for row in totals {
                let n: Int = row["n"]
                let outcomeText: String = row[Columns.outcome.rawValue]
                guard let outcome = InvocationRecord.Outcome(rawValue: outcomeText) else {
                    throw StoreError(.database, operation: "summary",
                                     message: "unknown outcome \"\(outcomeText)\" in the ledger")
                }
                summary.outcomes[outcome] = n
                summary.count += n
                if outcome != .success { summary.errors += n }
                summary.coldStarts += row["cold"] ?? 0
                summary.totalGBSeconds += row["gbs"] ?? 0
                summary.totalBilledMs += row["billed"] ?? 0
            }

            var durations = try Double.fetchAll(db, matching
                .select(Columns.durationMs)
                .order(Columns.startedAt.desc, Column("id").desc)
                .limit(percentileSampleLimit))
            durations.sort()
            summary.percentileSampleSize = durations.count
            summary.p50DurationMs = InvocationSummary.percentile(0.50, ofSorted: durations)
            summary.p90DurationMs = InvocationSummary.percentile(0.90, ofSorted: durations)
            summary.p99DurationMs = InvocationSummary.percentile(0.99, ofSorted: durations)
            return summary
        }
    }

    /// Deletes invocations that started before `before`. Returns how many were deleted.
    @discardableResult
    public func pruneInvocations(before: Int64) async throws -> Int {
        try await write("prune invocations") { db in
            try InvocationRecord.filter(InvocationRecord.CodingKeys.startedAt < before).deleteAll(db)
        }
    }
}
