import BaselineKafka
import BaselineService
import Foundation
import Testing

/// /readyz of a consuming service says not-ready while its partitions are not consumed: start
/// offsets not answered yet, or a loop that stopped polling.
@Suite struct ConsumerReadinessTests {
    /// Opens once.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var open = false
        func release() { lock.withLock { open = true } }
        var isOpen: Bool { lock.withLock { open } }
    }

    /// Polls until `condition` holds (at most 30 s).
    func poll(_ consumer: KafkaConsumer, until condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            _ = try await consumer.poll(maxMessages: 10, maxWaitMs: 100)
            if await condition() { return true }
        }
        return false
    }

    @Test func notReadyWhileStartOffsetsAreAwaitedNorWhenPollingStopped() async throws {
        try TestStack.requireKafka()
        let topic = TestStack.unique("ready")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        defer { producer.triggerClose() }
        try await producer.createTopics([(topic, 1)])
        let gate = Gate()
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("g"), topics: [topic],
                                         onAssign: { _ in
                                             while !gate.isOpen { try await Task.sleep(for: .milliseconds(20)) }
                                             return [:]
                                         }, logger: TestStack.logger)
        let check = ReadinessChecks.consumer(consumer, pollStaleAfter: .seconds(2))
        let awaited = try await poll(consumer) { consumer.isAwaitingStartOffsets }
        #expect(awaited)
        #expect(await check() == "awaiting start offsets")
        gate.release()
        let ready = try await poll(consumer) {
            guard consumer.hasAssignment else { return false }
            return await check() == nil
        }
        #expect(ready)
        // The loop stops polling (stuck in a batch): not ready once the limit passed.
        try await Task.sleep(for: .seconds(3))
        let stale = await check()
        #expect(stale?.hasPrefix("no poll for") == true, "got \(stale ?? "ready")")
        await consumer.close()
    }
}
