import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// A stored offset past a re-created log's end while ListOffsets fails (just after a broker
/// restart). Kept unchecked, it stalls the partition (Tansu answers an out-of-range fetch with
/// nothing) or, where librdkafka resets it to the log's start, the merge transaction fences every
/// batch and the fence seeks back to it forever. The check must be asked again (and the fence
/// apply the past-end policy) so the log is re-read.
@Suite struct FencingLoopTests {
    let fixtures = ProfileFixtures()

    /// A broker restarting: ListOffsets fails the first `failures` times, then the consumer answers.
    final class RestartingBounds: PartitionBounds, @unchecked Sendable {
        struct Unreachable: Error {}
        let real = ConsumerReference()
        private let lock = NSLock()
        private var failures: Int
        init(failures: Int) { self.failures = failures }
        func watermarks(_ partition: KafkaTopicPartition) async throws -> (low: Int64, high: Int64) {
            let fail = lock.withLock { defer { failures -= 1 }; return failures > 0 }
            if fail { throw Unreachable() }
            return try await real.watermarks(partition)
        }
        func fetchedHighWatermark(_ partition: KafkaTopicPartition, from offset: Int64) async throws -> Int64 {
            try await real.fetchedHighWatermark(partition, from: offset)
        }
    }

    @Test func aPastEndOffsetTheAssignmentCouldNotCheckIsResetByTheFenceNotSoughtToForever() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("pastend")
        let requests = (0..<3).map { fixtures.request(image, dump: "\(image)-d\($0)", instance: "\(image)-i\($0)", at: Int64($0)) }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await fixtures.produce(requests, to: topic, producer: producer)
        let group = TestStack.unique("g")
        let capture = LogCapture()
        let logger: Logger = {
            var logger = Logger(label: "fencing-loop") { _ in capture }
            logger.logLevel = .info
            return logger
        }()
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let store = ProfileStore(client: client)
            try await store.storeOffsets([StoredOffset(topic: topic, partition: 0, nextOffset: 1000)], firsts: [], group: group,
                                         logger: logger)
            let cache = VersionCache(capacity: 10)
            let bounds = RestartingBounds(failures: 2)
            let consumer = try KafkaConsumer(
                configuration: TestStack.kafka, groupID: group, topics: [topic],
                onAssign: ProfileMergeStage.storedOffsets(store: store, group: group, cache: cache, bounds: bounds, logger: logger),
                logger: logger)
            bounds.real.set(consumer)
            let stage = ProfileMergeStage(consumer: consumer, producer: producer, store: store, cache: cache, model: fixtures.model,
                                          consumerGroup: group, maxBatch: 10, logger: logger)
            var merged: Int64 = -1
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await stage.run() }
                defer { tasks.cancelAll() }
                let deadline = ContinuousClock.now + .seconds(15)
                while ContinuousClock.now < deadline {
                    for try await n in try await client.query("SELECT count(*) FROM merged_dumps WHERE profile_key = \(image)")
                        .decode(Int64.self) { merged = n }
                    if merged == 3 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let fences = capture.entries.filter { $0.level == .warning && $0.message.hasPrefix("profile-merger: fenced") }
            let unchecked = capture.entries.filter { $0.level == .warning && $0.message.contains("could not be read (ListOffsets)") }
            #expect(merged == 3, "last log lines: \(capture.entries.suffix(15).map { "\($0.level) \($0.message)" })")
            #expect(fences.count <= 1)
            #expect(!unchecked.isEmpty, "a failed bounds check must be logged")
        }
    }
}
