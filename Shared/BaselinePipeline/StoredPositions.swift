import BaselineKafka
import Logging

/// Positions a stage stores with its effects (profile-merger: in PostgreSQL, in the transaction
/// that writes the merge), so it restarts exactly where its effects end.
public protocol PositionStore: Sendable {
    /// The stored next offset of each of `partitions` that has one.
    func load(_ partitions: Set<KafkaTopicPartition>) async throws -> [KafkaTopicPartition: Int64]
    /// Sets a stored position, backwards too (only for a partition whose log was re-created),
    /// if it is still `expected`: a member that was just fenced must not move back an offset
    /// the partition's new owner has reset and moved on from since.
    func reset(_ partition: KafkaTopicPartition, to offset: Int64, ifStoredAt expected: Int64) async throws
}

/// Start offsets from a `PositionStore`, checked against each partition's log.
public enum StoredPositions {
    /// The start offsets for newly assigned partitions: those stored with the effect, checked
    /// against the log (`checked`). `assigned` runs first (caches of partitions another member
    /// may have changed).
    public static func assignHandler(_ store: any PositionStore, bounds: (any PartitionBounds)? = nil,
                                     logger: Logger? = nil, assigned: @escaping @Sendable () -> Void = {}) -> KafkaConsumer.AssignHandler {
        { partitions in
            assigned()
            let stored = try await store.load(Set(partitions))
            guard let bounds else { return stored }
            // Unchecked, a stored offset past a re-created log's end stalls the partition (a broker
            // that answers an out-of-range fetch with nothing) or loops through fences (one that
            // resets it): the consumer asks again with backoff, reporting "awaiting start offsets".
            return try await checked(stored, store: store, bounds: bounds, logger: logger, requireBounds: true)
        }
    }

    /// `stored` with the fixed policy for an offset that does not fit the partition's log (see
    /// docs/reliability.md): past the end (the topic was re-created, e.g. a broker without
    /// persistence restarted) → start again at the log's first offset and store that (re-reading
    /// must be harmless: profile-merger skips dump ids it merged); before the start (retention
    /// removed messages never processed) → start at the first offset still there; both logged and
    /// counted. A stored offset past the end ListOffsets reports is confirmed with a fetch before
    /// anything is reset: a broker that under-reports the end (Tansu) would otherwise move stored
    /// offsets backwards, re-read the log and, meanwhile, let a stale member's batch past the
    /// fencing check; when neither source answers, the stored offset is kept (logged, counted)
    /// and the fencing path checks it again later.
    /// `requireBounds`: throw when ListOffsets fails (else the stored offset is kept unchecked).
    public static func checked(_ stored: [KafkaTopicPartition: Int64], store: any PositionStore, bounds: any PartitionBounds,
                               logger: Logger?, requireBounds: Bool = false) async throws -> [KafkaTopicPartition: Int64] {
        var result = stored
        for (tp, next) in stored {
            var log: (low: Int64, high: Int64)
            do {
                log = try await bounds.watermarks(tp)
            } catch {
                CounterCache.shared.increment("baseline_watermarks_failed_total")
                let outcome = requireBounds ? "asking again" : "stored offset \(next) kept unchecked"
                logger?.warning("the bounds of \(tp.topic)[\(tp.partition)] could not be read (ListOffsets); \(outcome): \(error)")
                if requireBounds { throw error }
                continue
            }
            if next > log.high {
                do {
                    log.high = try await bounds.fetchedHighWatermark(tp, from: log.high)
                } catch {
                    CounterCache.shared.increment("baseline_watermarks_failed_total")
                    logger?.warning("the end of \(tp.topic)[\(tp.partition)] could not be confirmed by a fetch: stored offset \(next) kept (ListOffsets says \(log.high)): \(error)")
                    continue
                }
                if next <= log.high {
                    CounterCache.shared.increment("baseline_watermarks_underreported_total")
                    logger?.notice("the broker under-reported the end of \(tp.topic)[\(tp.partition)] (ListOffsets); a fetch says \(log.high): stored offset \(next) kept")
                    continue
                }
            }
            if next > log.high {
                CounterCache.shared.increment("baseline_offsets_out_of_range_total", [("kind", "past_end")])
                logger?.warning("stored offset \(next) of \(tp.topic)[\(tp.partition)] is past the log's end \(log.high): the topic was re-created; re-reading from \(log.low) (merged dump ids are skipped)")
                try await store.reset(tp, to: log.low, ifStoredAt: next)
                result[tp] = log.low
            } else if next < log.low {
                CounterCache.shared.increment("baseline_offsets_out_of_range_total", [("kind", "before_start")])
                logger?.error("stored offset \(next) of \(tp.topic)[\(tp.partition)] is before the log's start \(log.low): \(log.low - next) message(s) left the topic (retention) before they were merged")
                result[tp] = log.low
            }
        }
        return result
    }
}
