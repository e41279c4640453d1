import BaselineKafka
import Testing

/// A record sent with a CreateTime carries it to the consumer (the evaluation and chaos feeds send
/// dumps as an agent would, recorded when they ended).
@Suite struct RecordTimestampTests {
    @Test func aGivenRecordTimeReachesTheConsumer() async throws {
        try TestStack.requireKafka()
        let topic = TestStack.unique("stamped")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        defer { producer.triggerClose() }
        try await producer.createTopics([(topic, 1)])
        let stamp: Int64 = 1_790_000_000_123  // a fixed time in the past, within no retention limit of the test broker
        _ = try await producer.sendAll([KafkaRecord(topic: topic, key: Array("k".utf8), value: Array("stamped".utf8), timestampMs: stamp),
                                        KafkaRecord(topic: topic, key: Array("k".utf8), value: Array("now".utf8))])
        let messages = try await TestStack.collect(topic, count: 2)
        #expect(messages.first { $0.value == Array("stamped".utf8) }?.timestamp == stamp)
        let now = messages.first { $0.value == Array("now".utf8) }?.timestamp ?? 0
        #expect(now > stamp, "a record without a time gets the clock's")
    }
}
