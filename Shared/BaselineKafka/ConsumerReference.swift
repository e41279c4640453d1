import Synchronization

/// A consumer known after it is built: for handlers passed to its own initialiser (an assign
/// handler that asks the consumer where its partitions' logs end).
public final class ConsumerReference: PartitionBounds {
    private let consumer = Mutex<KafkaConsumer?>(nil)

    public init() {}

    public func set(_ c: KafkaConsumer) { consumer.withLock { $0 = c } }

    public func watermarks(_ partition: KafkaTopicPartition) async throws -> (low: Int64, high: Int64) {
        try await built().watermarks(partition)
    }

    public func fetchedHighWatermark(_ partition: KafkaTopicPartition, from offset: Int64) async throws -> Int64 {
        try await built().fetchedHighWatermark(partition, from: offset)
    }

    /// The first assignment can come before the initialiser returned: waits for it briefly.
    private func built() async throws -> KafkaConsumer {
        for _ in 0..<500 {
            if let c = consumer.withLock({ $0 }) { return c }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw KafkaError("consumer not built yet")
    }
}
