import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import Foundation
import Testing

/// The consuming skeleton never stops the service over writing or reading positions: those
/// failures have no message to blame (a database or broker hiccup), so they are retried.
@Suite struct StageResilienceTests {
    /// Fails its first `failures` calls with an error the handler cannot classify.
    final class FlakyCalls: @unchecked Sendable {
        struct Unexplained: Error {}
        private let lock = NSLock()
        private var left: Int
        private(set) var calls = 0
        init(failures: Int) { left = failures }
        func call() throws {
            try lock.withLock {
                calls += 1
                if left > 0 {
                    left -= 1
                    throw Unexplained()
                }
            }
        }
        var count: Int { lock.withLock { calls } }
    }

    /// A handler whose batches fail (`Poison`: deterministically; `Moved`: fenced) and whose
    /// position writes and reads fail `flaky`'s way.
    struct FlakyPositionsHandler: StageHandler {
        struct Poison: Error {}
        struct Moved: Error {}
        let fenceBatches: Bool
        let flaky: FlakyCalls
        let deadLetters: String

        func decode(_ message: KafkaMessage) -> Result<Int, Rejection> { .success(Int(message.offset)) }
        func handle(_ items: [(Int, KafkaMessage)], span: BatchSpan) async throws -> StageOutput {
            if fenceBatches { throw Moved() }
            throw Poison()
        }
        func classify(_ error: any Error) -> StageFailure {
            switch error {
            case is Poison: .deterministic
            case is Moved: .fenced
            default: .unknown
            }
        }
        var deadLetterTopic: String? { deadLetters }
        func skip(_ span: BatchSpan) async throws { try flaky.call() }
        func resumePositions(_ partitions: Set<KafkaTopicPartition>, bounds: any PartitionBounds) async throws
            -> [KafkaTopicPartition: Int64] {
            try flaky.call()
            return [:]
        }
    }

    func stage(fenceBatches: Bool, flaky: FlakyCalls) async throws -> (ConsumingStage<FlakyPositionsHandler>, [KafkaMessage], KafkaProducer) {
        let input = TestStack.unique("flaky-in"), deadLetters = TestStack.unique("flaky-dlq")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        try await producer.createTopics([(input, 1), (deadLetters, 1)])
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("g"), topics: [input],
                                         logger: TestStack.logger)
        let handler = FlakyPositionsHandler(fenceBatches: fenceBatches, flaky: flaky, deadLetters: deadLetters)
        let stage = ConsumingStage(name: "flaky", handler: handler, consumer: consumer, producer: producer, logger: TestStack.logger)
        let batch = [KafkaMessage(topic: input, partition: 0, offset: 0, key: nil, value: Array("x".utf8))]
        return (stage, batch, producer)
    }

    /// Six unexplained failures of the position write after a dead letter (more than the five
    /// after which a batch's unknown failure counts as deterministic): the batch still completes.
    @Test func failingPositionWritesAreRetriedNotThrownOutOfTheStage() async throws {
        try TestStack.requireKafka()
        let flaky = FlakyCalls(failures: 6)
        let (stage, batch, producer) = try await stage(fenceBatches: false, flaky: flaky)
        defer { producer.triggerClose() }
        try await stage.process(batch)
        #expect(flaky.count >= 7)
    }

    /// Six unexplained failures reading the positions to resume from after a fence.
    @Test func failingPositionReadsAfterAFenceAreRetriedNotThrownOutOfTheStage() async throws {
        try TestStack.requireKafka()
        let flaky = FlakyCalls(failures: 6)
        let (stage, batch, producer) = try await stage(fenceBatches: true, flaky: flaky)
        defer { producer.triggerClose() }
        try await stage.process(batch)
        #expect(flaky.count == 7)
    }

    /// A fencing loop on one partition is counted until that partition makes progress: another
    /// partition's batch, or another partition's fence, does not reset it.
    @Test func aLoopOnOnePartitionIsNotHiddenByProgressOnAnother() async throws {
        try TestStack.requireKafka()
        let (stage, _, producer) = try await stage(fenceBatches: false, flaky: FlakyCalls(failures: 0))
        defer { producer.triggerClose() }
        let p0 = KafkaTopicPartition(topic: "t", partition: 0), p1 = KafkaTopicPartition(topic: "t", partition: 1)
        await stage.backOffWhenFencedRepeatedly(at: [p1: 50])
        await stage.backOffWhenFencedRepeatedly(at: [p1: 50])
        await stage.backOffWhenFencedRepeatedly(at: [p0: 7])
        stage.clearRepeatedFences([p0])
        #expect(stage.repeatedFences.withLock { $0[p1]?.count } == 2)
        #expect(stage.repeatedFences.withLock { $0[p0] == nil })
        stage.clearRepeatedFences([p1])
        #expect(stage.repeatedFences.withLock { $0.isEmpty })
    }
}
