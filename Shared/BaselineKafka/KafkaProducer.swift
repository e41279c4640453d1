import Foundation
import Logging
import ServiceLifecycle

/// An asynchronous producer with delivery reports: `send` returns once the broker acknowledged
/// the record (acks=all, idempotence on by default), so callers commit their input offsets only
/// after their output is durable.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let pollThread: PollThread
    private let logger: Logger
    private let closed = ManagedAtomicFlag()

    public init(configuration: KafkaConfiguration, extraProperties: [String: String] = [:], logger: Logger) throws {
        self.logger = logger
        let props = configuration.merged(defaults: KafkaConfiguration.producerDefaults, extra: extraProperties,
                                           ignoring: KafkaConfiguration.consumerOnly)
        handle = try makeHandle(RD_KAFKA_PRODUCER, props) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message, let opaque = message.pointee._private else { return }
                let ticket = Unmanaged<DeliveryTicket>.fromOpaque(opaque).takeRetainedValue()
                let m = message.pointee
                if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let topic = String(cString: rd_kafka_topic_name(m.rkt))
                    ticket.complete(.success(KafkaDeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
                } else {
                    ticket.complete(.failure(KafkaError(m.err, context: "delivery failed")))
                }
            }
        }
        pollThread = PollThread(handle: handle, name: "kafka-producer-poll")
    }

    deinit { close() }

    /// Flushes outstanding records (up to `timeoutMs`) and releases the client.
    public func close(timeoutMs: Int32 = 10_000) {
        guard closed.set() else { return }
        let err = rd_kafka_flush(handle, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("producer flush on close: \(errorString(err))")
        }
        pollThread.stop()
        rd_kafka_destroy(handle)
    }

    /// Produces one record and waits for its delivery report.
    @discardableResult
    public func send(_ record: KafkaRecord) async throws -> KafkaDeliveryReport {
        try await sendAll([record])[0]
    }

    /// Produces records (in order per partition) and waits until every one is acknowledged.
    /// Throws the first delivery error; records are never silently dropped.
    public func sendAll(_ records: [KafkaRecord]) async throws -> [KafkaDeliveryReport] {
        if records.isEmpty { return [] }
        if closed.isSet { throw KafkaError("the producer is closed") }
        let batch = DeliveryBatch(count: records.count)
        return try await withCheckedThrowingContinuation { continuation in
            batch.setContinuation(continuation)
            for (index, record) in records.enumerated() {
                let ticket = DeliveryTicket(batch: batch, index: index)
                let opaque = Unmanaged.passRetained(ticket).toOpaque()
                if let error = enqueue(record, opaque: opaque) {
                    Unmanaged<DeliveryTicket>.fromOpaque(opaque).release()
                    // Fail this and every not-yet-enqueued record so the batch completes.
                    for rest in index..<records.count { batch.complete(index: rest, .failure(error)) }
                    break
                }
            }
        }
    }

    /// Hands one record to librdkafka, retrying while its local queue is full.
    private func enqueue(_ record: KafkaRecord, opaque: UnsafeMutableRawPointer) -> KafkaError? {
        var attempts = 0
        while true {
            let err = produceOnce(record, opaque: opaque)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempts < 3000 {
                attempts += 1
                usleep(1000)  // the poll thread drains delivery reports meanwhile
                continue
            }
            return KafkaError(err, context: "produce to \(record.topic)")
        }
    }

    private func produceOnce(_ record: KafkaRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        let headers: OpaquePointer? = record.headers.isEmpty ? nil : rd_kafka_headers_new(record.headers.count)
        for h in record.headers {
            h.value.withUnsafeBytes { v in _ = rd_kafka_header_add(headers, h.name, -1, v.baseAddress, v.count) }
        }
        let err: rd_kafka_resp_err_t = record.topic.withCString { topic in
            record.value.withUnsafeBytes { value in
                withKeyBytes(record.key) { key in
                    var vus: [rd_kafka_vu_t] = []
                    vus.reserveCapacity(7)
                    var vu = rd_kafka_vu_t()
                    vu.vtype = RD_KAFKA_VTYPE_TOPIC; vu.u.cstr = topic; vus.append(vu)
                    vu = rd_kafka_vu_t()
                    vu.vtype = RD_KAFKA_VTYPE_VALUE
                    vu.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress); vu.u.mem.size = value.count
                    vus.append(vu)
                    if let key {
                        vu = rd_kafka_vu_t()
                        vu.vtype = RD_KAFKA_VTYPE_KEY
                        vu.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress); vu.u.mem.size = key.count
                        vus.append(vu)
                    }
                    if let partition = record.partition {
                        vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_PARTITION; vu.u.i32 = partition; vus.append(vu)
                    }
                    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS; vu.u.i = RD_KAFKA_MSG_F_COPY; vus.append(vu)
                    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_OPAQUE; vu.u.ptr = opaque; vus.append(vu)
                    if let headers {
                        vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_HEADERS; vu.u.headers = headers; vus.append(vu)
                    }
                    guard let error = rd_kafka_produceva(handle, &vus, vus.count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                    let code = rd_kafka_error_code(error)
                    rd_kafka_error_destroy(error)
                    return code
                }
            }
        }
        // On success librdkafka owns the headers; on failure they are still ours.
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return err
    }

    /// Creates topics that do not exist yet (idempotent: "already exists" is success).
    public func createTopics(_ topics: [(name: String, partitions: Int32)], replicationFactor: Int32 = -1,
                             timeoutMs: Int32 = 15_000) throws {
        try KafkaAdmin.createTopics(handle: handle, topics, replicationFactor: replicationFactor, timeoutMs: timeoutMs)
    }
}

private func withKeyBytes<R>(_ key: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let key else { return body(nil) }
    return key.withUnsafeBytes { body($0) }
}

/// One record's claim on its batch; retained by librdkafka until its delivery report.
final class DeliveryTicket {
    let batch: DeliveryBatch
    let index: Int
    init(batch: DeliveryBatch, index: Int) {
        self.batch = batch
        self.index = index
    }
    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) { batch.complete(index: index, result) }
}

/// Collects the delivery reports of one `sendAll` and resumes it when all have arrived.
final class DeliveryBatch: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [KafkaDeliveryReport?]
    private var remaining: Int
    private var firstError: KafkaError?
    private var continuation: CheckedContinuation<[KafkaDeliveryReport], any Error>?

    init(count: Int) {
        reports = Array(repeating: nil, count: count)
        remaining = count
    }

    func setContinuation(_ c: CheckedContinuation<[KafkaDeliveryReport], any Error>) {
        lock.withLock { continuation = c }
    }

    func complete(index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let finished: (CheckedContinuation<[KafkaDeliveryReport], any Error>, Result<[KafkaDeliveryReport], any Error>)? = lock.withLock {
            switch result {
            case .success(let r): reports[index] = r
            case .failure(let e): if firstError == nil { firstError = e }
            }
            remaining -= 1
            guard remaining == 0, let c = continuation else { return nil }
            continuation = nil
            if let firstError { return (c, .failure(firstError)) }
            return (c, .success(reports.map { $0! }))
        }
        if let (c, r) = finished { c.resume(with: r) }
    }
}

/// As a service the producer lives until graceful shutdown, then flushes and closes. List it
/// before the stages that use it: a ServiceGroup shuts services down in reverse order, so the
/// stages finish (and stop producing) first.
extension KafkaProducer: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }
}
