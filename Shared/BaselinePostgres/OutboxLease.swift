import Logging
import PostgresNIO

/// One drain of an outbox at a time across all instances: a transaction-scoped PostgreSQL
/// advisory lock, taken and used on one connection. Two relays therefore never pick the same
/// unpublished rows in the same round (ids make a duplicate harmless, this avoids it). Commit,
/// rollback or a lost connection release it: no unlock can fail and leave it held by a pooled
/// connection. No row is locked up front, so the paths that mark rows published never wait
/// for a relay beyond the rows it is marking.
public enum OutboxLease {
    /// Keeps these locks apart from single-key advisory locks (the migrator's). In pg_locks a
    /// lease is the advisory lock with classid = this and objid = hashtext(name).
    public static let namespace: Int32 = 0x4253_4C4E  // "BSLN"

    /// Runs `body` in a transaction holding the lease `name`, on that transaction's connection
    /// (its queries must use `conn`: another pool connection would not see the lease, and a
    /// pool of one would deadlock). nil without running it when another instance holds it.
    public static func withLease<T: Sendable>(_ name: String, client: PostgresClient, logger: Logger,
                                              _ body: (PostgresConnection) async throws -> T) async throws -> T? {
        do {
            return try await client.withTransaction(logger: logger) { conn -> T? in
                var leased = false
                for try await got in try await conn.query("SELECT pg_try_advisory_xact_lock(\(namespace), hashtext(\(name)))", logger: logger)
                    .decode(Bool.self) { leased = got }
                guard leased else { return nil }
                return try await body(conn)
            }
        } catch let failure as PostgresTransactionError {
            // The body's own error, as before the transaction (its rollback released the lease).
            if let error = failure.closureError { throw error }
            throw failure
        }
    }
}
