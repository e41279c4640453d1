import Logging
import PostgresNIO

/// A schema change: an ordered list of statements applied in one transaction.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]
}

/// Applies `Migrations.all` at start-up. Idempotent, and safe when several instances start at
/// once: the whole run holds a transaction-scoped advisory lock, so one instance migrates and
/// the others wait, then find nothing left to do.
public struct Migrator: Sendable {
    static let advisoryLockKey: Int64 = 0x4241_5345_4C49_4E45  // "BASELINE"
    public let migrations: [Migration]

    public init(migrations: [Migration] = Migrations.all) {
        self.migrations = migrations
    }

    /// Returns the versions applied by this call (empty when the schema was current).
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        let migrations = self.migrations
        return try await client.withTransaction(logger: logger) { conn in
            // A service's statement_timeout (profile-api's 10 s, the merger's and enricher's 60 s)
            // must not cancel a long migration, nor the wait for another instance's (so it comes
            // before the lock).
            try await conn.query("SET LOCAL statement_timeout = 0", logger: logger)
            try await conn.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
            // A migration's ALTER waits for the table's lock behind long queries, and every reader
            // then waits behind it: give up after a while instead (Topology.migrate retries).
            try await conn.query("SET LOCAL lock_timeout = '15s'", logger: logger)
            try await conn.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int>()
            for try await v in try await conn.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
                applied.insert(v)
            }
            var done: [Int] = []
            for m in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(m.version) {
                for statement in m.statements {
                    try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await conn.query("INSERT INTO schema_migrations (version, name) VALUES (\(m.version), \(m.name))", logger: logger)
                logger.info("applied migration", metadata: ["version": "\(m.version)", "name": "\(m.name)"])
                done.append(m.version)
            }
            return done
        }
    }
}
