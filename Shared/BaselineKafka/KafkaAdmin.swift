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
        guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError("rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)

        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1000) else {
            throw KafkaError("creating topics timed out after \(timeoutMs) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "create topics")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { throw KafkaError("unexpected admin event") }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        var failures: [String] = []
        for i in 0..<count {
            let r = results[i]
            let code = rd_kafka_topic_result_error(r)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(r))
            let message = rd_kafka_topic_result_error_string(r).map { String(cString: $0) } ?? errorString(code)
            if message.localizedLowercaseContains("already exists") { continue }
            failures.append("\(name): \(message)")
        }
        if !failures.isEmpty { throw KafkaError("create topics failed: " + failures.joined(separator: "; ")) }
    }
}

extension String {
    func localizedLowercaseContains(_ other: String) -> Bool { lowercased().contains(other.lowercased()) }
}
