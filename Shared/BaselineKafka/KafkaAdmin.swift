/// A topic to create.
struct TopicSpec: Sendable {
    let name: String
    let partitions: Int32
}

/// Topic administration through the Admin API of an existing client handle.
enum KafkaAdmin {
    /// Blocks until the broker answers or `timeoutMs` passes: call it on a client's queue.
    static func createTopics(handle: OpaquePointer, _ topics: [TopicSpec],
                             replicationFactor: Int32, timeoutMs: Int32) throws {
        if topics.isEmpty { return }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for t in topics {
            guard let nt = rd_kafka_NewTopic_new(t.name, t.partitions, replicationFactor, &errstr, errstr.count) else {
                throw KafkaError("topic \(t.name): \(cString(errstr))")
            }
            newTopics.append(nt)
        }
        try run(RD_KAFKA_ADMIN_OP_CREATETOPICS, "create topics", handle: handle, timeoutMs: timeoutMs,
                start: { options, queue in rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue) },
                results: { event, count in
                    rd_kafka_event_CreateTopics_result(event).flatMap { rd_kafka_CreateTopics_result_topics($0, &count) }
                },
                accepts: { code, message in
                    code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS || message.localizedLowercaseContains("already exists")
                })
    }
}

extension KafkaAdmin {
    /// Runs one topic admin operation and waits for its answer (blocks: call it on a client's
    /// queue). A topic's error that `accepts` (its code, its message) is no failure; any other
    /// fails the whole operation, naming each topic.
    static func run(_ operation: rd_kafka_admin_op_t, _ name: String, handle: OpaquePointer, timeoutMs: Int32,
                    start: (_ options: OpaquePointer?, _ queue: OpaquePointer) -> Void,
                    results: (_ event: OpaquePointer, _ count: inout Int) -> UnsafeMutablePointer<OpaquePointer?>?,
                    accepts: (rd_kafka_resp_err_t, String) -> Bool) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError("rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, operation)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        start(options, queue)

        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1000) else {
            throw KafkaError("\(name) timed out after \(timeoutMs) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: name) }
        var count = 0
        guard let topics = results(event, &count) else { return }
        var failures: [String] = []
        for i in 0..<count {
            let code = rd_kafka_topic_result_error(topics[i])
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            let message = rd_kafka_topic_result_error_string(topics[i]).map { String(cString: $0) } ?? errorString(code)
            if accepts(code, message) { continue }
            failures.append("\(String(cString: rd_kafka_topic_result_name(topics[i]))): \(message)")
        }
        if !failures.isEmpty { throw KafkaError("\(name) failed: " + failures.joined(separator: "; ")) }
    }
}

extension String {
    func localizedLowercaseContains(_ other: String) -> Bool { lowercased().contains(other.lowercased()) }
}
