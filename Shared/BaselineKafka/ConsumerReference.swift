import Synchronization

/// A consumer known after it is built: for handlers passed to its own initialiser (an assign
/// handler that asks the consumer for watermarks).
public final class ConsumerReference: Sendable {
    private let consumer = Mutex<KafkaConsumer?>(nil)

    public init() {}

    public func set(_ c: KafkaConsumer) { consumer.withLock { $0 = c } }

    public func watermarks(_ partition: KafkaTopicPartition) async throws -> (low: Int64, high: Int64) {
        // The first assignment can come before the initialiser returned: wait for it briefly.
        for _ in 0..<500 {
            if let c = consumer.withLock({ $0 }) { return try await c.watermarks(partition) }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw KafkaError("consumer not built yet")
    }
}
