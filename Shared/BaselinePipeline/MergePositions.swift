import BaselineKafka
import BaselinePostgres

/// profile-merger's positions: its group's `consumer_offsets` rows, written in the merge transaction.
public struct MergePositions: PositionStore {
    let store: ProfileStore
    let group: String

    public init(store: ProfileStore, group: String) {
        self.store = store
        self.group = group
    }

    public func load(_ partitions: Set<KafkaTopicPartition>) async throws -> [KafkaTopicPartition: Int64] {
        let stored = try await store.loadOffsets(group: group, partitions: partitions.map { ($0.topic, $0.partition) })
        return Dictionary(stored.map { (KafkaTopicPartition(topic: $0.topic, partition: $0.partition), $0.nextOffset) },
                          uniquingKeysWith: max)
    }

    public func reset(_ partition: KafkaTopicPartition, to offset: Int64, ifStoredAt expected: Int64) async throws {
        try await store.resetOffset(group: group, topic: partition.topic, partition: partition.partition, to: offset, ifStoredAt: expected)
    }
}

extension StoredOffset {
    /// One row per partition of `positions`.
    static func rows(_ positions: [KafkaTopicPartition: Int64]) -> [StoredOffset] {
        positions.map { StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value) }
    }
}
