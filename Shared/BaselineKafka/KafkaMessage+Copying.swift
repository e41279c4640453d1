extension KafkaMessage {
    /// Copies a consumed message out of librdkafka's buffers (the caller destroys `m`).
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
