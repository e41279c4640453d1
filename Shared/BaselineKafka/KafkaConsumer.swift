import Foundation
import Logging

/// A consumer-group member. Messages arrive as an `AsyncSequence` of batches; offsets are stored
/// and committed only when the caller says its effect is durable (auto-commit is off).
///
/// Every blocking librdkafka call (poll, commit, committed, seek, leaving the group) runs on the
/// consumer's own serial dispatch queue, never on Swift's cooperative pool. After `close()` every
/// call throws `KafkaError.closed`.
///
/// Readiness (cheap to read, no I/O):
/// * `hasAssignment` — the member holds partitions (librdkafka fetches them);
///   `isAwaitingStartOffsets` — partitions are assigned by the group but `onAssign` has not
///   answered yet, so they are not fetched;
/// * `lastSuccessfulPoll` — when a poll last completed without error (the loop is alive);
/// * `health` — closed, all brokers down, latest librdkafka error (see `KafkaHealth`).
///
/// A reasonable /readyz: `!health.isClosed && !health.brokersDown && hasAssignment &&
/// lastSuccessfulPoll` within a few poll intervals. An idle member of a group with more members
/// than partitions legitimately has no assignment.
public final class KafkaConsumer: @unchecked Sendable {
    /// Called when partitions are assigned. Returns the offset to start at for some of them
    /// (e.g. offsets stored in PostgreSQL with the effect); the others resume from the group's
    /// committed offset. Runs as a task: polling goes on meanwhile, and the partitions are fetched
    /// only once it has answered, from the offsets it returned. If it throws, it is called again
    /// after a backoff (200 ms doubling to 30 s; `isAwaitingStartOffsets` meanwhile); it is
    /// cancelled when the partitions are revoked before it answers.
    public typealias AssignHandler = @Sendable ([KafkaTopicPartition]) async throws -> [KafkaTopicPartition: Int64]
    /// Called inside librdkafka's rebalance callback before partitions are taken away; must not block.
    public typealias RevokeHandler = @Sendable ([KafkaTopicPartition]) -> Void

    public let groupID: String
    public let topics: [String]
    /// Kept for short-lived probes of the same cluster (`fetchedHighWatermark`).
    let configuration: KafkaConfiguration
    let logger: Logger
    let client: KafkaClient
    private let rebalancer: Rebalancer
    private let stopRequested = ManagedAtomicFlag()
    private let lastPoll = LockedValue<ContinuousClock.Instant?>(nil)

    public init(configuration: KafkaConfiguration, groupID: String, topics: [String],
                extraProperties: [String: String] = [:],
                onAssign: AssignHandler? = nil, onRevoke: RevokeHandler? = nil, logger: Logger) throws {
        self.groupID = groupID
        self.topics = topics
        self.configuration = configuration
        self.logger = logger
        var extra = extraProperties
        extra["group.id"] = groupID
        let props = configuration.merged(defaults: KafkaConfiguration.consumerDefaults, extra: extra,
                                           ignoring: KafkaConfiguration.producerOnly)
        rebalancer = Rebalancer(onAssign: onAssign, onRevoke: onRevoke, logger: logger)
        let events = ClientEvents(logger: logger, rebalancer: rebalancer)
        rebalancer.events = events
        client = try KafkaClient(RD_KAFKA_CONSUMER, label: "kafka-consumer-\(groupID)", properties: props, events: events,
                                 windDown: { rk in
                                     // Leaves the group: the revoke callback runs, the group rebalances at once.
                                     let err = rd_kafka_consumer_close(rk)
                                     if err != RD_KAFKA_RESP_ERR_NO_ERROR { logger.warning("consumer close: \(errorString(err))") }
                                 })
        // On a throw below, `client` is released and destroys the handle, once.
        try client.withHandle { rk in
            let redirect = rd_kafka_poll_set_consumer(rk)  // callbacks and logs served by our polls
            if redirect != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(redirect, context: "poll_set_consumer") }
            let list = makeList(Dictionary(topics.map { (KafkaTopicPartition(topic: $0, partition: -1), Int64(RD_KAFKA_OFFSET_INVALID)) },
                                           uniquingKeysWith: { a, _ in a }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_subscribe(rk, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(err, context: "subscribe to \(topics.joined(separator: ","))")
            }
        }
    }

    /// Partitions currently assigned to this member and handed to librdkafka (fetching).
    public var assignment: Set<KafkaTopicPartition> { rebalancer.assignment }

    /// True while the member holds partitions.
    public var hasAssignment: Bool { !rebalancer.assignment.isEmpty }

    /// True while `onAssign` has not answered for partitions the group assigned.
    public var isAwaitingStartOffsets: Bool { rebalancer.isAwaitingStartOffsets }

    /// Number of rebalances (assign + revoke callbacks) seen so far.
    public var rebalanceCount: Int { rebalancer.count }

    /// When a poll last completed without throwing (nil: never).
    public var lastSuccessfulPoll: ContinuousClock.Instant? { lastPoll.value }

    /// Closed, brokers down, latest librdkafka error.
    public var health: KafkaHealth { client.events.health(isClosed: client.isClosed) }

    /// Makes the batch sequence finish after the batch in flight (graceful shutdown).
    public func requestStop() { stopRequested.set() }
    public var isStopping: Bool { stopRequested.isSet }

    /// One poll: up to `maxMessages`, waiting at most `maxWaitMs` for the first (may be empty).
    /// First hands librdkafka the partitions whose `onAssign` answered; throws an assign or
    /// unassign failure recorded since the previous poll.
    public func poll(maxMessages: Int, maxWaitMs: Int32) async throws -> [KafkaMessage] {
        let batch = try await client.run { [rebalancer, events = client.events] rk in
            try rebalancer.applyAnswers(rk)
            var batch: [KafkaMessage] = []
            var wait = maxWaitMs
            while batch.count < maxMessages {
                guard let m = rd_kafka_consumer_poll(rk, wait) else { break }
                defer { rd_kafka_message_destroy(m) }
                wait = 0
                let err = m.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    batch.append(KafkaMessage(copying: m))
                } else if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    continue
                } else if err == RD_KAFKA_RESP_ERR__FATAL {
                    var errstr = [CChar](repeating: 0, count: 512)
                    let fatal = rd_kafka_fatal_error(rk, &errstr, errstr.count)
                    let error = KafkaError(fatal, context: "fatal consumer error: \(cString(errstr))")
                    events.record(error)
                    throw error
                } else {
                    // librdkafka returns a consumer's errors (broker down, unknown topic...) as messages.
                    let detail = rd_kafka_message_errstr(m).map { String(cString: $0) } ?? ""
                    events.report(err, detail: detail, level: .warning)
                }
            }
            return batch
        }
        if !batch.isEmpty { client.events.brokerAnswered() }
        lastPoll.value = .now
        return batch
    }

    /// Commits the given next-offsets-to-read synchronously.
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) async throws {
        try client.ensureOpen()
        if offsets.isEmpty { return }
        try await client.run { rk in
            let list = makeList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(rk, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
                throw KafkaError(err, context: "commit")
            }
        }
        client.events.brokerAnswered()
    }

    /// Commits the position after each partition's last message in `messages`.
    public func commit(after messages: [KafkaMessage]) async throws {
        try await commit(Self.nextOffsets(after: messages))
    }

    /// The next offset to read per partition once `messages` are done.
    public static func nextOffsets(after messages: [KafkaMessage]) -> [KafkaTopicPartition: Int64] {
        var next: [KafkaTopicPartition: Int64] = [:]
        for m in messages { next[m.topicPartition] = max(next[m.topicPartition] ?? 0, m.offset + 1) }
        return next
    }

    /// The group's committed offsets for assigned-or-not partitions.
    public func committed(_ partitions: [KafkaTopicPartition], timeoutMs: Int32 = 5000) async throws -> [KafkaTopicPartition: Int64] {
        let offsets = try await client.run { rk in
            let list = makeList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(rk, list, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed") }
            return readList(list).filter { $0.value >= 0 }
        }
        client.events.brokerAnswered()
        return offsets
    }

    /// The partition's log bounds as the broker sees them: the first offset still held and the
    /// offset the next message will get.
    public func watermarks(_ partition: KafkaTopicPartition, timeoutMs: Int32 = 5000) async throws -> (low: Int64, high: Int64) {
        let bounds = try await client.run { rk in
            var low: Int64 = -1, high: Int64 = -1
            let err = rd_kafka_query_watermark_offsets(rk, partition.topic, partition.partition, &low, &high, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "watermarks of \(partition.topic)[\(partition.partition)]") }
            return (low: low, high: high)
        }
        client.events.brokerAnswered()
        return bounds
    }

    /// Moves the fetch position of assigned partitions.
    public func seek(_ offsets: [KafkaTopicPartition: Int64], timeoutMs: Int32 = 5000) async throws {
        try await client.run { rk in
            let list = makeList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(rk, list, timeoutMs) {
                let message = String(cString: rd_kafka_error_string(error))
                rd_kafka_error_destroy(error)
                throw KafkaError("seek: \(message)")
            }
            for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(list.pointee.elems[i].err, context: "seek \(String(cString: list.pointee.elems[i].topic))")
            }
        }
    }

    /// Leaves the group (revoking partitions) and releases the client; later calls throw
    /// `KafkaError.closed`. Idempotent; waits for the poll in flight.
    public func close() async {
        stopRequested.set()
        await client.close()
        rebalancer.cancelPending()
    }
}
