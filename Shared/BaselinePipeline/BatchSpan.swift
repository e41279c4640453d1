import BaselineKafka

/// The partition positions some messages cover: where to resume once they are done, and where
/// they started (a stored position already past the start means another member handled them).
public struct BatchSpan: Sendable, Hashable {
    /// The next offset to read per partition once the messages are done.
    public var next: [KafkaTopicPartition: Int64]
    /// The first offset of the messages per partition (empty: no fencing check).
    public var first: [KafkaTopicPartition: Int64]

    public init(next: [KafkaTopicPartition: Int64], first: [KafkaTopicPartition: Int64]) {
        self.next = next
        self.first = first
    }

    public init(_ messages: [KafkaMessage]) {
        var first: [KafkaTopicPartition: Int64] = [:]
        for m in messages { first[m.topicPartition] = min(first[m.topicPartition] ?? m.offset, m.offset) }
        self.init(next: KafkaConsumer.nextOffsets(after: messages), first: first)
    }
}
