import GRDB

extension Store {
    /// The schema, as named migrations applied in order, each once per database.
    /// Never edit a migration that has shipped: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1 invocation ledger") { db in
            try db.create(table: "invocation") { t in
                t.primaryKey("id", .integer)
                t.column("request_id", .text).notNull()
                t.column("workload", .text).notNull()
                t.column("mode", .text).notNull()
                t.column("trigger", .text).notNull()
                t.column("started_at", .integer).notNull()
                t.column("duration_ms", .double).notNull()
                t.column("billed_duration_ms", .integer).notNull()
                t.column("memory_size_mb", .integer).notNull()
                t.column("max_memory_used_mb", .integer)
                t.column("init_duration_ms", .double)
                t.column("cold", .boolean).notNull()
                t.column("gb_seconds", .double).notNull()
                t.column("outcome", .text).notNull()
                t.column("error_type", .text)
                t.column("environment_id", .text)
            }
            try db.create(index: "invocation_by_workload_time", on: "invocation",
                          columns: ["workload", "started_at"])
            try db.create(index: "invocation_by_request", on: "invocation", columns: ["request_id"])
        }

        migrator.registerMigration("v1 event queue") { db in
            try db.create(table: "queue_message") { t in
                // AUTOINCREMENT: an id is never reused, so a late complete(id:) cannot hit a newer message.
                t.autoIncrementedPrimaryKey("id")
                t.column("queue", .text).notNull()
                t.column("payload", .blob).notNull()
                t.column("enqueued_at", .integer).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("max_attempts", .integer).notNull()
                t.column("visible_at", .integer).notNull()
                t.column("max_event_age_ms", .integer).notNull()
                t.column("last_error", .text)
                t.column("state", .text).notNull()
                    .check { ["ready", "leased", "dead"].contains($0) }
                t.column("dead_lettered_at", .integer)
                t.column("dead_letter_reason", .text)
            }
            // The lease path: the next live message of a queue by (visible_at, id).
            try db.create(index: "queue_message_live", on: "queue_message",
                          columns: ["queue", "visible_at", "id"], condition: Column("state") != "dead")
            try db.create(index: "queue_message_dead", on: "queue_message",
                          columns: ["queue", "id"], condition: Column("state") == "dead")
        }

        migrator.registerMigration("v1 placement history") { db in
            try db.create(table: "placement") { t in
                t.primaryKey("id", .integer)
                t.column("workload", .text).notNull()
                t.column("at", .integer).notNull()
                t.column("from_mode", .text)
                t.column("to_mode", .text).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(index: "placement_by_workload", on: "placement", columns: ["workload", "at"])
        }

        // Nothing looks invocations up by request id, and an index on a random
        // UUID dirtied a random page per row: most of the ledger's write cost.
        migrator.registerMigration("v2 ledger without the request id index") { db in
            try db.drop(index: "invocation_by_request")
        }

        // A message that is dead-lettered is copied to this queue in the same
        // transaction (a workload's `dead_letter`), whatever dead-letters it.
        migrator.registerMigration("v3 queue messages name their dead-letter queue") { db in
            try db.alter(table: "queue_message") { t in
                t.add(column: "dead_letter_queue", .text)
            }
        }

        // Runs of run-to-completion tasks: one row per run, with what the
        // engine measured and what Fargate would bill.
        migrator.registerMigration("v4 task runs") { db in
            try db.create(table: "task_run") { t in
                t.primaryKey("id", .integer)
                t.column("run_id", .text).notNull()
                t.column("workload", .text).notNull()
                t.column("trigger", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("outcome", .text).notNull()
                t.column("exit_code", .integer)
                t.column("reason", .text).notNull()
                t.column("started_at", .integer)
                t.column("duration_ms", .double).notNull()
                t.column("cpu_seconds", .double)
                t.column("max_memory_mb", .integer)
                t.column("memory_mb", .integer).notNull()
                t.column("vcpu", .double).notNull()
                t.column("billed_seconds", .double).notNull()
                t.column("cost_usd", .double).notNull()
            }
            try db.create(index: "task_run_by_workload", on: "task_run", columns: ["workload", "id"])
        }

        return migrator
    }
}
