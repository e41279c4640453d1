import Foundation
import Logging

/// A consumer-group member. Messages arrive as an `AsyncSequence` of batches; offsets are stored
/// and committed only when the caller says its effect is durable (auto-commit is off).
public final class KafkaConsumer: @unchecked Sendable {
    /// Called when partitions are assigned. Returns the offset to start at for some of them
    /// (e.g. offsets stored in PostgreSQL with the effect); the others resume from the group's
    /// committed offset. Called on the consumer's poll thread; keep it short.
    public typealias AssignHandler = @Sendable ([KafkaTopicPartition]) async throws -> [KafkaTopicPartition: Int64]
    public typealias RevokeHandler = @Sendable ([KafkaTopicPartition]) -> Void

    public let groupID: String
    public let topics: [String]
    private let handle: OpaquePointer
    private let queue: DispatchQueue
    private let logger: Logger
    private let rebalance: RebalanceContext
    private let stopRequested = ManagedAtomicFlag()
    private let closed = ManagedAtomicFlag()

    public init(configuration: KafkaConfiguration, groupID: String, topics: [String],
                extraProperties: [String: String] = [:],
                onAssign: AssignHandler? = nil, onRevoke: RevokeHandler? = nil, logger: Logger) throws {
        self.groupID = groupID
        self.topics = topics
        self.logger = logger
        self.queue = DispatchQueue(label: "kafka-consumer-\(groupID)")
        var extra = extraProperties
        extra["group.id"] = groupID
        let props = configuration.merged(defaults: KafkaConfiguration.consumerDefaults, extra: extra,
                                           ignoring: KafkaConfiguration.producerOnly)
        let context = RebalanceContext(onAssign: onAssign, onRevoke: onRevoke, logger: logger)
        self.rebalance = context
        handle = try makeHandle(RD_KAFKA_CONSUMER, props) { conf in
            rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let opaque else { return }
                Unmanaged<RebalanceContext>.fromOpaque(opaque).takeUnretainedValue()
                    .handle(rk: rk, err: err, partitions: partitions)
            }
        }
        rd_kafka_poll_set_consumer(handle)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for t in topics { rd_kafka_topic_partition_list_add(list, t, -1) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(handle)
            throw KafkaError(err, context: "subscribe to \(topics.joined(separator: ","))")
        }
    }

    deinit {
        if !closed.isSet { rd_kafka_destroy(handle) }
    }

    /// Partitions currently assigned to this member.
    public var assignment: Set<KafkaTopicPartition> { rebalance.assigned }

    /// Number of rebalances (assign + revoke callbacks) seen so far.
    public var rebalanceCount: Int { rebalance.count }

    /// Batches of up to `maxMessages`, waiting at most `maxWaitMs` for the first message of a
    /// batch. Empty batches are not yielded. Ends after `requestStop()` or task cancellation.
    public func batches(maxMessages: Int = 500, maxWaitMs: Int32 = 100) -> Batches {
        Batches(consumer: self, maxMessages: maxMessages, maxWaitMs: maxWaitMs)
    }

    /// Makes the batch sequence finish after the batch in flight (graceful shutdown).
    public func requestStop() { stopRequested.set() }
    public var isStopping: Bool { stopRequested.isSet }

    /// Commits the given next-offsets-to-read synchronously.
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) async throws {
        if offsets.isEmpty { return }
        try await offloaded(queue) { [self] in
            let list = makeList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(handle, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
                throw KafkaError(err, context: "commit")
            }
        }
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
        return try await offloaded(queue) { [self] in
            let list = makeList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(-1001)) }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(handle, list, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed") }
            return readList(list).filter { $0.value >= 0 }
        }
    }

    /// Moves the fetch position of assigned partitions.
    public func seek(_ offsets: [KafkaTopicPartition: Int64], timeoutMs: Int32 = 5000) async throws {
        try await offloaded(queue) { [self] in
            let list = makeList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(handle, list, timeoutMs) {
                let message = String(cString: rd_kafka_error_string(error))
                rd_kafka_error_destroy(error)
                throw KafkaError("seek: \(message)")
            }
            for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(list.pointee.elems[i].err, context: "seek \(String(cString: list.pointee.elems[i].topic))")
            }
        }
    }

    /// Leaves the group (revoking partitions) and releases the client. Idempotent.
    public func close() async {
        guard closed.set() else { return }
        stopRequested.set()
        let logger = self.logger
        _ = try? await offloaded(queue) { [self] in
            let err = rd_kafka_consumer_close(handle)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { logger.warning("consumer close: \(errorString(err))") }
            rd_kafka_destroy(handle)
        }
    }

    /// One poll: up to `maxMessages`, waiting at most `maxWaitMs` for the first (may be empty).
    public func poll(maxMessages: Int, maxWaitMs: Int32) async throws -> [KafkaMessage] {
        let logger = self.logger
        let closed = self.closed
        return try await offloaded(queue) { [self] in
            if closed.isSet { return [] }
            var batch: [KafkaMessage] = []
            var wait = maxWaitMs
            while batch.count < maxMessages {
                guard let m = rd_kafka_consumer_poll(handle, wait) else { break }
                defer { rd_kafka_message_destroy(m) }
                wait = 0
                let err = m.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    batch.append(KafkaMessage(copying: m))
                } else if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    continue
                } else if err == RD_KAFKA_RESP_ERR__FATAL {
                    var errstr = [CChar](repeating: 0, count: 512)
                    let fatal = rd_kafka_fatal_error(handle, &errstr, errstr.count)
                    throw KafkaError(fatal, context: "fatal consumer error: \(cString(errstr))")
                } else {
                    logger.warning("consumer: \(errorString(err))")
                }
            }
            return batch
        }
    }

    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = [KafkaMessage]
        let consumer: KafkaConsumer
        let maxMessages: Int
        let maxWaitMs: Int32

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            let maxMessages: Int
            let maxWaitMs: Int32

            public mutating func next() async throws -> [KafkaMessage]? {
                while !consumer.isStopping && !Task.isCancelled {
                    let batch = try await consumer.poll(maxMessages: maxMessages, maxWaitMs: maxWaitMs)
                    if !batch.isEmpty { return batch }
                }
                return nil
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: consumer, maxMessages: maxMessages, maxWaitMs: maxWaitMs)
        }
    }
}

extension KafkaMessage {
    init(copying m: UnsafeMutablePointer<rd_kafka_message_t>) {
        let p = m.pointee
        let topic = String(cString: rd_kafka_topic_name(p.rkt))
        let value = p.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: p.len)) } ?? []
        let key = p.key.map { Array(UnsafeRawBufferPointer(start: $0, count: p.key_len)) }
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var idx = 0
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
                idx += 1
            }
        }
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &tsType)
        self.init(topic: topic, partition: p.partition, offset: p.offset, key: key, value: value,
                  headers: headers, timestamp: tsType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
    }
}

func makeList(_ offsets: [KafkaTopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
    for (tp, offset) in offsets {
        rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
    }
    return list
}

func readList(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition: Int64] {
    var result: [KafkaTopicPartition: Int64] = [:]
    for i in 0..<Int(list.pointee.cnt) {
        let e = list.pointee.elems[i]
        result[KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)] = e.offset
    }
    return result
}

/// State behind the C rebalance callback (reached through the client's opaque pointer).
final class RebalanceContext: @unchecked Sendable {
    private let onAssign: KafkaConsumer.AssignHandler?
    private let onRevoke: KafkaConsumer.RevokeHandler?
    private let logger: Logger
    private let lock = NSLock()
    private var _assigned: Set<KafkaTopicPartition> = []
    private var _count = 0

    init(onAssign: KafkaConsumer.AssignHandler?, onRevoke: KafkaConsumer.RevokeHandler?, logger: Logger) {
        self.onAssign = onAssign
        self.onRevoke = onRevoke
        self.logger = logger
    }

    var assigned: Set<KafkaTopicPartition> { lock.withLock { _assigned } }
    var count: Int { lock.withLock { _count } }

    func handle(rk: OpaquePointer, err: rd_kafka_resp_err_t, partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let tps = partitions.map { Array(readList($0).keys) } ?? []
        lock.withLock { _count += 1 }
        if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            if let partitions, let onAssign {
                let start = resolveStartOffsets(tps, onAssign)
                for i in 0..<Int(partitions.pointee.cnt) {
                    let e = partitions.pointee.elems[i]
                    let tp = KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)
                    if let offset = start[tp] { partitions.pointee.elems[i].offset = offset }
                }
            }
            if cooperative {
                if let e = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(e) }
            } else {
                rd_kafka_assign(rk, partitions)
            }
            lock.withLock { _assigned.formUnion(tps) }
            logger.info("partitions assigned", metadata: ["partitions": "\(tps.sorted { $0.description < $1.description })"])
        } else {
            onRevoke?(tps)
            if cooperative {
                if let e = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(e) }
            } else {
                rd_kafka_assign(rk, nil)
            }
            lock.withLock { _assigned.subtract(tps) }
            logger.info("partitions revoked", metadata: ["partitions": "\(tps.count)"])
        }
    }

    /// Bridges the async handler into the synchronous C callback. If it fails, the partitions
    /// resume from the group's committed offsets (downstream effects are idempotent).
    private func resolveStartOffsets(_ tps: [KafkaTopicPartition], _ handler: @escaping KafkaConsumer.AssignHandler) -> [KafkaTopicPartition: Int64] {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.set(await Result(catching: { try await handler(tps) }))
            done.signal()
        }
        done.wait()
        switch box.get() {
        case .success(let offsets): return offsets
        case .failure(let error):
            logger.error("assign handler failed, resuming from committed offsets", metadata: ["error": "\(error)"])
            return [:]
        case nil: return [:]
        }
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<[KafkaTopicPartition: Int64], any Error>?
    func set(_ v: Result<[KafkaTopicPartition: Int64], any Error>) { lock.withLock { value = v } }
    func get() -> Result<[KafkaTopicPartition: Int64], any Error>? { lock.withLock { value } }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
