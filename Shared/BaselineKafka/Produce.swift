/// One `rd_kafka_produceva` call: copies key, value and headers into librdkafka (RD_KAFKA_MSG_F_COPY)
/// and returns at once (QUEUE_FULL when librdkafka's local queue is full; the caller retries).
func produceOnce(_ rk: OpaquePointer, _ record: KafkaRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
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
                if let timestamp = record.timestampMs {
                    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_TIMESTAMP; vu.u.i64 = timestamp; vus.append(vu)
                }
                vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS; vu.u.i = RD_KAFKA_MSG_F_COPY; vus.append(vu)
                vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_OPAQUE; vu.u.ptr = opaque; vus.append(vu)
                if let headers {
                    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_HEADERS; vu.u.headers = headers; vus.append(vu)
                }
                guard let error = rd_kafka_produceva(rk, &vus, vus.count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
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

private func withKeyBytes<R>(_ key: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let key else { return body(nil) }
    return key.withUnsafeBytes { body($0) }
}
