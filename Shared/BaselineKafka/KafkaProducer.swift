import Foundation
import Logging
import ServiceLifecycle

/// An asynchronous producer with delivery reports: `send` returns once the broker acknowledged
/// the record (acks=all, idempotence on by default), so callers commit their input offsets only
/// after their output is durable.
///
/// A dedicated thread serves delivery reports, logs and errors; flushing and admin calls run on
/// the producer's own dispatch queue. Nothing blocks Swift's cooperative pool. After `close()`
/// every call throws `KafkaError.closed`.
///
/// Readiness: `health` (closed, all brokers down, latest librdkafka error; see `KafkaHealth`).
public final class KafkaProducer: @unchecked Sendable {
    let client: KafkaClient
    private let logger: Logger

    public init(configuration: KafkaConfiguration, extraProperties: [String: String] = [:], logger: Logger) throws {
        self.logger = logger
        let props = configuration.merged(defaults: KafkaConfiguration.producerDefaults, extra: extraProperties,
                                           ignoring: KafkaConfiguration.consumerOnly)
        client = try KafkaClient(RD_KAFKA_PRODUCER, label: "kafka-producer", properties: props,
                                 events: ClientEvents(logger: logger), pollThreadName: "kafka-producer-poll",
                                 windDown: { rk in Self.drain(rk, timeoutMs: 10_000, logger: logger) }) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let ticketPointer = message.pointee._private else { return }
                let ticket = Unmanaged<DeliveryTicket>.fromOpaque(ticketPointer).takeRetainedValue()
                let m = message.pointee
                if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    if let opaque { ClientEvents.from(opaque).brokerAnswered() }
                    let topic = String(cString: rd_kafka_topic_name(m.rkt))
                    ticket.complete(.success(KafkaDeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
                } else {
                    ticket.complete(.failure(KafkaError(m.err, context: "delivery failed")))
                }
            }
        }
    }

    /// Closed, brokers down, latest librdkafka error.
    public var health: KafkaHealth { client.events.health(isClosed: client.isClosed) }

    /// Refuses new records, waits up to `timeoutMs` for outstanding ones (failing those still
    /// unacknowledged then), and releases the client. Idempotent.
    public func close(timeoutMs: Int32 = 10_000) async {
        let logger = self.logger
        await client.close { rk in Self.drain(rk, timeoutMs: timeoutMs, logger: logger) }
    }

    /// `close` without waiting for it, where awaiting is impossible (`defer`). Later calls throw
    /// `KafkaError.closed` as soon as the close has started on the producer's queue.
    public func triggerClose(timeoutMs: Int32 = 10_000) {
        let logger = self.logger
        client.closeInBackground { rk in Self.drain(rk, timeoutMs: timeoutMs, logger: logger) }
    }

    /// Waits for outstanding records, then purges what is left so that every pending `sendAll`
    /// completes (with a purge error) instead of waiting forever on a destroyed client.
    private static func drain(_ rk: OpaquePointer, timeoutMs: Int32, logger: Logger) {
        if rd_kafka_flush(rk, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR { return }
        logger.warning("producer close: \(rd_kafka_outq_len(rk)) record(s) not acknowledged after \(timeoutMs) ms; failing them")
        _ = rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
        _ = rd_kafka_flush(rk, 1000)  // serves the purged records' delivery reports
    }

    /// Produces one record and waits for its delivery report.
    @discardableResult
    public func send(_ record: KafkaRecord) async throws -> KafkaDeliveryReport {
        try await sendAll([record])[0]
    }

    /// Produces records (in order per partition) and waits until every one is acknowledged.
    /// Throws the first delivery error; records are never silently dropped. A record refused on
    /// the spot (too large for `message.max.bytes`) does not keep the others from being sent.
    public func sendAll(_ records: [KafkaRecord]) async throws -> [KafkaDeliveryReport] {
        try await sendEach(records).map { try $0.get() }
    }

    /// Produces records (in order per partition) and waits for every delivery report: one result
    /// per record, in order. A record librdkafka refuses on the spot fails alone and the next is
    /// still produced; only a failure that would refuse every later record as well (the client
    /// closed or fatally failed, the local queue still full after 30 s, the task cancelled) fails
    /// the rest without trying them. Throws only when the producer is closed to begin with.
    public func sendEach(_ records: [KafkaRecord]) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        try client.ensureOpen()
        if records.isEmpty { return [] }
        let batch = DeliveryBatch(count: records.count)
        for (index, record) in records.enumerated() {
            guard let error = await enqueue(record, ticket: DeliveryTicket(batch: batch, index: index)) else { continue }
            batch.complete(index: index, .failure(error))
            if Self.failsEveryRecord(error) {
                for rest in (index + 1)..<records.count { batch.complete(index: rest, .failure(error)) }
                break
            }
        }
        return await batch.results()
    }

    /// Whether an enqueue failure is about the producer rather than the record.
    static func failsEveryRecord(_ error: KafkaError) -> Bool {
        error.isClosed || error.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue || error.code == RD_KAFKA_RESP_ERR__FATAL.rawValue
            || error.code == RD_KAFKA_RESP_ERR__DESTROY.rawValue || error.code == -1
    }

    /// Hands one record to librdkafka. While its local queue is full the task sleeps (suspends,
    /// occupying no thread) and retries; the poll thread drains delivery reports meanwhile.
    private func enqueue(_ record: KafkaRecord, ticket: DeliveryTicket) async -> KafkaError? {
        let opaque = Unmanaged.passRetained(ticket).toOpaque()
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let err: rd_kafka_resp_err_t
            do {
                err = try client.withHandle { produceOnce($0, record, opaque: opaque) }
            } catch {
                Unmanaged<DeliveryTicket>.fromOpaque(opaque).release()
                return error as? KafkaError ?? KafkaError("\(error)")
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ContinuousClock.now < deadline && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(2))
                continue
            }
            Unmanaged<DeliveryTicket>.fromOpaque(opaque).release()
            return KafkaError(err, context: "produce to \(record.topic)")
        }
    }

    /// Creates topics that do not exist yet (idempotent: "already exists" is success). The wait
    /// for the broker's answer runs on the producer's queue.
    public func createTopics(_ topics: [(name: String, partitions: Int32)], replicationFactor: Int32 = -1,
                             timeoutMs: Int32 = 15_000) async throws {
        let topics = topics.map { TopicSpec(name: $0.name, partitions: $0.partitions) }
        try await client.run { rk in
            try KafkaAdmin.createTopics(handle: rk, topics, replicationFactor: replicationFactor, timeoutMs: timeoutMs)
        }
        client.events.brokerAnswered()
    }
}

/// As a service the producer lives until graceful shutdown, then flushes and closes. List it
/// before the stages that use it: a ServiceGroup shuts services down in reverse order, so the
/// stages finish (and stop producing) first.
extension KafkaProducer: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
