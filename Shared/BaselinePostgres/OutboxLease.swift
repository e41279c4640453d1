import Logging
import PostgresNIO

/// One drain of an outbox at a time across all instances: a PostgreSQL session advisory lock held
/// on one pooled connection while the drain runs. Two relays therefore never pick the same
/// unpublished rows in the same round (ids make a duplicate harmless, this avoids it). The lock
/// goes with the connection if the process dies; no row is locked, so the paths that mark rows
/// published never wait for a relay.
public enum OutboxLease {
    /// Keeps these locks apart from single-key advisory locks (the migrator's).
    static let namespace: Int32 = 0x4253_4C4E  // "BSLN"

    /// Runs `body` holding the lease `name`; nil without running it when another instance holds it.
    public static func withLease<T>(_ name: String, client: PostgresClient, logger: Logger,
                                    _ body: () async throws -> T) async throws -> T? {
        try await client.withConnection { conn in
            var leased = false
            for try await got in try await conn.query("SELECT pg_try_advisory_lock(\(namespace), hashtext(\(name)))", logger: logger)
                .decode(Bool.self) { leased = got }
            guard leased else { return nil }
            let result: T
            do {
                result = try await body()
            } catch {
                try? await release(name, conn: conn, logger: logger)
                throw error
            }
            try await release(name, conn: conn, logger: logger)
            return result
        }
    }

    private static func release(_ name: String, conn: PostgresConnection, logger: Logger) async throws {
        for try await _ in try await conn.query("SELECT pg_advisory_unlock(\(namespace), hashtext(\(name)))", logger: logger)
            .decode(Bool.self) {}
    }
}
