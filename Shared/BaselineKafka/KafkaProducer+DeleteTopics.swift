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
        var topics: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { for t in topics { rd_kafka_DeleteTopic_destroy(t) } }
        try run(RD_KAFKA_ADMIN_OP_DELETETOPICS, "delete topics", handle: handle, timeoutMs: timeoutMs,
                start: { options, queue in rd_kafka_DeleteTopics(handle, &topics, topics.count, options, queue) },
                results: { event, count in
                    rd_kafka_event_DeleteTopics_result(event).flatMap { rd_kafka_DeleteTopics_result_topics($0, &count) }
                },
                accepts: { code, _ in code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART })
    }
}
