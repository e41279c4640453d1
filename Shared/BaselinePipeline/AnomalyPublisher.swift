import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation

/// The anomaly outbox: anomalies are stored in the merge transaction, published after it, and
/// published again by a relay until the broker acknowledged them.
extension ProfileMergeHandler {
    /// Publishes anomalies committed but not published (the broker was down, or the process stopped
    /// in between) once they are `olderThan` seconds old (younger ones may be in another instance's
    /// hands). Run at start and then every `relayInterval` by a `Periodic` relay; one instance
    /// drains at a time (`OutboxLease`). At-least-once: consumers may see an anomaly twice and
    /// de-duplicate on `anomaly_id`.
    public func drainAnomalyOutbox(olderThan seconds: Int = 60) async {
        do {
            let drained: Bool? = try await OutboxLease.withLease("anomaly-outbox", client: store.client, logger: logger) { conn in
                let pending = try await ProfileStore.unpublishedAnomalies(olderThan: seconds, limit: 10_000, client: conn)
                if pending.isEmpty { return true }
                logger.info("publishing \(pending.count) anomalies left unpublished (older than \(seconds) s)")
                // The limiter counted these when they were first published; counting them again would
                // mark them rate-limited and drop them from the outbox for good.
                await publish(updates: [], anomalies: pending, applyLimit: false, on: conn)
                return true
            }
            OutboxLeaseSkips.record("anomaly-outbox", leased: drained != nil, logger: logger)
        } catch {
            logger.warning("anomaly outbox not drained: \(error)")
        }
    }

    /// Publishes profile updates and (rate-limited) anomalies after the commit. Anomalies are
    /// marked published once the broker acknowledged them, or rate-limited; PostgreSQL keeps
    /// every one, and those left unmarked are published at the next start.
    /// `on`: the connection of the outbox lease when draining (default: the pool).
    func publish(updates: [ProfileUpdate], anomalies: [Anomaly], applyLimit: Bool = true, on connection: (any PostgresQueryable)? = nil) async {
        var records = updates.compactMap { try? KafkaRecord(WireCatalog.profileUpdates, $0) }
        var allowed: [Anomaly] = [], limited: [String] = []
        for a in anomalies {
            if !applyLimit || limiter.allow(a) { allowed.append(a) } else { limited.append(a.id) }
        }
        records += allowed.compactMap { try? KafkaRecord(WireCatalog.securityAnomalies, AnomalyEvent($0)) }
        var published: [String] = []
        if !records.isEmpty {
            do {
                _ = try await producer.sendAll(records)
                published = allowed.map(\.id)
            } catch {
                // The effect is committed; caches re-read PostgreSQL and the relay publishes the anomalies later.
                logger.warning("profile updates/anomalies not published (the outbox relay retries): \(error)")
            }
        }
        do {
            try await ProfileStore.markAnomalies(published: published, rateLimited: limited, client: connection ?? store.client)
        } catch {
            // Unmarked anomalies are published again by the relay: duplicates, never losses (ids de-duplicate).
            logger.warning("anomalies not marked published: \(error)")
        }
    }
}

/// The rate limiter behind a lock (the stage processes one batch at a time; the lock keeps it Sendable).
final class LockedLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var limiter: AnomalyRateLimiter
    init(_ limiter: AnomalyRateLimiter) { self.limiter = limiter }
    func allow(_ anomaly: Anomaly) -> Bool { lock.withLock { limiter.allow(anomaly) } }
}
