import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the enricher's profile cache current: every instance reads all of `profile-updates`
/// (its own consumer group, from the latest offset) and drops versions with a newer revision.
public struct ProfileUpdatesListener: Service {
    let consumer: KafkaConsumer
    let cache: ProfileContextCache
    let logger: Logger

    public init(configuration: KafkaConfiguration, cache: ProfileContextCache, logger: Logger) throws {
        consumer = try KafkaConsumer(configuration: configuration, groupID: "baseline-enricher-cache-\(UUID().uuidString.prefix(8))",
                                     topics: [Topics.profileUpdates], extraProperties: ["auto.offset.reset": "latest"],
                                     logger: logger)
        self.cache = cache
        self.logger = logger
    }

    /// True once the listener has its partitions (updates published from then on are seen).
    public var isListening: Bool { !consumer.assignment.isEmpty }

    public func run() async throws {
        try await consumer.runUntilShutdown(maxMessages: 1000, logger: logger) { batch in
            for m in batch {
                guard let update = try? WireCatalog.profileUpdates.decode(m.value) else { continue }
                cache.invalidate(profileKey: update.profileKey, imageTag: update.imageTag)
            }
        }
    }
}

/// Reloads active suppressions (accepted through the API) and flushes hit counts, periodically.
public struct SuppressionRefresher: Service {
    let store: SuppressionStore
    let state: SuppressionState
    let interval: Duration
    let logger: Logger
    /// Per-profile signal counts to flush with the hits (nil: not kept).
    let tallies: SignalTallies?
    let aggregates: SignalAggregateStore?

    public init(store: SuppressionStore, state: SuppressionState, interval: Duration = .seconds(2), logger: Logger,
                tallies: SignalTallies? = nil, aggregates: SignalAggregateStore? = nil) {
        self.store = store
        self.state = state
        self.interval = interval
        self.logger = logger
        self.tallies = tallies
        self.aggregates = aggregates
    }

    /// One refresh: new suppressions in, counts out.
    public func refresh() async {
        do {
            state.replace(try await store.active())
        } catch {
            logger.warning("cannot reload suppressions: \(error)")
        }
        let hits = state.takeHits()
        do {
            try await store.addHits(hits)
        } catch {
            state.putBackHits(hits)
            logger.warning("cannot store suppression hits: \(error)")
        }
        if let tallies, let aggregates {
            let counts = tallies.take()
            do {
                try await aggregates.record(counts)
                failedFlushes.reset()
            } catch {
                // Kept for the next round, but not for ever: counts that never store are dropped
                // (they are statistics; the enriched signals themselves were delivered).
                if failedFlushes.next() < Self.maxFailedFlushes {
                    tallies.putBack(counts)
                    logger.warning("cannot store signal aggregates (kept for the next round): \(String(reflecting: error))")
                } else {
                    failedFlushes.reset()
                    CounterCache.shared.increment("baseline_signal_aggregates_dropped_total")
                    logger.error("signal aggregates dropped after \(Self.maxFailedFlushes) failed flushes: \(String(reflecting: error))")
                }
            }
        }
    }

    static let maxFailedFlushes = 30
    private let failedFlushes = FailureCount()

    public func run() async throws {
        try await Periodic(every: interval, immediately: true) { await refresh() }.run()
        // Graceful shutdown: the last hits and counts go out before the database client stops.
        await refresh()
    }
}

/// Consecutive failures of a periodic job.
final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func next() -> Int { lock.withLock { count += 1; return count } }
    func reset() { lock.withLock { count = 0 } }
}
