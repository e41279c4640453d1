/// Topic deletion, for tools that need empty topics on a broker of their own (`baseline bench`).
/// The services never delete topics.
extension KafkaProducer {
    /// Deletes topics; one that does not exist is no error. The broker may take a moment to forget
    /// them: create them again with `createTopics`, which retries "already exists" as success.
    public func deleteTopics(_ names: [String], timeoutMs: Int32 = 15_000) async throws {
        if names.isEmpty { return }
        try await client.run { rk in try KafkaAdmin.deleteTopics(handle: rk, names, timeoutMs: timeoutMs) }
    }
}

extension KafkaAdmin {
    /// Blocks until the broker answers or `timeoutMs` passes: call it on a client's queue.
    static func deleteTopics(handle: OpaquePointer, _ names: [String], timeoutMs: Int32) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        var topics: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { for t in topics { rd_kafka_DeleteTopic_destroy(t) } }
        guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError("rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_DELETETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_DeleteTopics(handle, &topics, topics.count, options, queue)

        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1000) else {
            throw KafkaError("deleting topics timed out after \(timeoutMs) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "delete topics") }
        guard let result = rd_kafka_event_DeleteTopics_result(event) else { throw KafkaError("unexpected admin event") }
        var count = 0
        guard let results = rd_kafka_DeleteTopics_result_topics(result, &count) else { return }
        var failures: [String] = []
        for i in 0..<count {
            let code = rd_kafka_topic_result_error(results[i])
            if code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART { continue }
            let name = String(cString: rd_kafka_topic_result_name(results[i]))
            let message = rd_kafka_topic_result_error_string(results[i]).map { String(cString: $0) } ?? errorString(code)
            failures.append("\(name): \(message)")
        }
        if !failures.isEmpty { throw KafkaError("delete topics failed: " + failures.joined(separator: "; ")) }
    }
}
