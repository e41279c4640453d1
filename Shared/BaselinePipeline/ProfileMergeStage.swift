import BaselineCore
import BaselineKafka
import BaselinePostgres
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// profile-merger's loop. Each batch of merge requests is applied in ONE PostgreSQL transaction
/// together with the consumed offsets, so the effect is exactly-once: on every assignment the
/// consumer seeks to the offsets stored in PostgreSQL, and a dump id merged before is a no-op.
/// After the commit it publishes profile updates; the Kafka group offset is committed last and
/// only for lag visibility.
public final class ProfileMergeStage: Service, @unchecked Sendable {
    public static let defaultConsumerGroup = "baseline-profile-merger"
    public let consumerGroup: String

    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let store: ProfileStore
    let logger: Logger
    let maxBatch: Int
    let onStart: @Sendable () -> Void
    private let merged = Counter(label: "baseline_dumps_merged_total")
    private let duplicates = Counter(label: "baseline_dumps_duplicate_total")
    private let invalid = Counter(label: "baseline_merge_requests_invalid_total")
    private let batchTimer = Timer(label: "baseline_merge_batch_seconds", preferredDisplayUnit: .seconds)

    public init(consumer: KafkaConsumer, producer: KafkaProducer, store: ProfileStore, consumerGroup: String = defaultConsumerGroup, maxBatch: Int = 500,
                logger: Logger, onStart: @escaping @Sendable () -> Void = {}) {
        self.consumer = consumer
        self.consumerGroup = consumerGroup
        self.producer = producer
        self.store = store
        self.maxBatch = maxBatch
        self.logger = logger
        self.onStart = onStart
    }

    /// The start offsets for newly assigned partitions: those stored with the effect.
    public static func storedOffsets(store: ProfileStore, group: String = defaultConsumerGroup) -> KafkaConsumer.AssignHandler {
        { partitions in
            let stored = try await store.loadOffsets(group: group, partitions: partitions.map { ($0.topic, $0.partition) })
            var result: [KafkaTopicPartition: Int64] = [:]
            for s in stored { result[KafkaTopicPartition(topic: s.topic, partition: s.partition)] = s.nextOffset }
            return result
        }
    }

    public func run() async throws {
        onStart()
        do {
            try await withGracefulShutdownHandler {
                for try await batch in consumer.batches(maxMessages: maxBatch) {
                    try await process(batch)
                }
            } onGracefulShutdown: { [consumer] in
                consumer.requestStop()
            }
        } catch {
            logger.error("profile merger stopped on error: \(error)")
            await consumer.close()
            producer.close()
            throw error
        }
        await consumer.close()
        producer.close()
    }

    func process(_ batch: [KafkaMessage]) async throws {
        let started = ContinuousClock.now
        var requests: [(MergeRequest, KafkaMessage)] = []
        var deadLetters: [KafkaRecord] = []
        let decoder = JSONDecoder()
        for message in batch {
            do {
                requests.append((try decoder.decode(MergeRequest.self, from: Data(message.value)), message))
            } catch {
                invalid.increment()
                deadLetters.append(DeadLetter.record(for: message, to: Topics.activityDumpsDLQ,
                                                     rejection: Rejection("invalid_merge_request", "\(error)")))
            }
        }
        // Dead letters first: once the transaction stores the offsets they would never be retried.
        if !deadLetters.isEmpty { _ = try await producer.sendAll(deadLetters) }
        let offsets = KafkaConsumer.nextOffsets(after: batch).map {
            StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value)
        }
        let outcome = try await store.applyBatch(
            requests.map { req, msg in
                MergedDumpRow(request: req, sourceTopic: msg.topic, sourcePartition: msg.partition, sourceOffset: msg.offset)
            },
            group: consumerGroup, offsets: offsets, logger: logger)
        merged.increment(by: outcome.merged)
        duplicates.increment(by: outcome.duplicates)
        if !outcome.updates.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let records = try outcome.updates.map {
                KafkaRecord(topic: Topics.profileUpdates, key: $0.profileKey, value: Array(try encoder.encode($0)))
            }
            // Best effort: caches also re-read PostgreSQL, and the next batch re-publishes newer revisions.
            do { _ = try await producer.sendAll(records) } catch { logger.warning("profile-updates not published: \(error)") }
        }
        try? await consumer.commit(after: batch)
        batchTimer.recordInterval(since: started)
    }
}
