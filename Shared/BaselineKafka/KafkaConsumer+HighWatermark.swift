import Foundation

/// Where a partition's log ends, from two sources.
public protocol PartitionBounds: Sendable {
    /// The first offset still held and the offset the next message will get, as the broker's
    /// ListOffsets answers (cheap).
    func watermarks(_ partition: KafkaTopicPartition) async throws -> (low: Int64, high: Int64)
    /// The end as a fetch response reports it, fetching from `offset` (costly: a short-lived
    /// client). Some brokers under-report the end in ListOffsets: Tansu 0.6 answers the first
    /// offset of the last record batch + 1, so a log whose last batch held 4 records reads 3 short.
    func fetchedHighWatermark(_ partition: KafkaTopicPartition, from offset: Int64) async throws -> Int64
}

extension KafkaConsumer: PartitionBounds {
    public func watermarks(_ partition: KafkaTopicPartition) async throws -> (low: Int64, high: Int64) {
        try await watermarks(partition, timeoutMs: 5000)
    }

    public func fetchedHighWatermark(_ partition: KafkaTopicPartition, from offset: Int64) async throws -> Int64 {
        try await fetchedHighWatermark(partition, from: offset, timeoutMs: 5000)
    }

    /// A client of its own assigned `partition` at `offset` (librdkafka wants a group id even for
    /// assign; it never joins the group, nor commits), polled until a fetch response brought the
    /// high watermark, then closed.
    public func fetchedHighWatermark(_ partition: KafkaTopicPartition, from offset: Int64, timeoutMs: Int) async throws -> Int64 {
        try client.ensureOpen()
        let props = configuration.merged(defaults: KafkaConfiguration.consumerDefaults,
                                         extra: ["group.id": "baseline-log-probe-\(UInt64.random(in: 0 ... .max))"],
                                         ignoring: KafkaConfiguration.producerOnly)
            .filter { $0.0 != "group.instance.id" }
        let probe = try KafkaClient(RD_KAFKA_CONSUMER, label: "kafka-log-probe", properties: props, events: ClientEvents(logger: logger),
                                    windDown: { rk in _ = rd_kafka_consumer_close(rk) })
        do {
            let high = try await probe.run { rk in
                _ = rd_kafka_poll_set_consumer(rk)  // its logs are served by the polls below
                let list = makeList([partition: max(0, offset)])
                defer { rd_kafka_topic_partition_list_destroy(list) }
                let err = rd_kafka_assign(rk, list)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "probe assign \(partition)") }
                // Monotonic: a wall-clock step must not end the probe early or stretch it.
                let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
                while ContinuousClock.now < deadline {
                    if let m = rd_kafka_consumer_poll(rk, 100) { rd_kafka_message_destroy(m) }
                    var low: Int64 = -1, high: Int64 = -1
                    if rd_kafka_get_watermark_offsets(rk, partition.topic, partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                       high >= 0 {
                        return high
                    }
                }
                throw KafkaError("no fetch response for \(partition) within \(timeoutMs) ms")
            }
            await probe.close()
            return high
        } catch {
            await probe.close()
            throw error
        }
    }
}
