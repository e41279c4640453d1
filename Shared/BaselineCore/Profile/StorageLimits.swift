/// What PostgreSQL and Kafka would refuse, checked at the edge so a dump is rejected with a code
/// instead of failing the merge transaction forever: B-tree index entries are limited to about
/// 2.7 kB (node keys and anomaly ids are indexed), text cannot hold NUL bytes, and a record must
/// fit the producer's `message.max.bytes`.
public struct StorageLimits: Sendable, Hashable {
    public var maxNodeKeyBytes = 2_000
    public var maxIdentifierBytes = 256
    /// The largest merge request dump-consumer will produce (librdkafka's default
    /// `message.max.bytes` is 1 000 000; headers and framing need a little room).
    public var maxOutputBytes = 990_000

    public init() {}

    /// Throws the first limit the request breaks.
    public func check(_ request: MergeRequest) throws(Rejection) {
        let w = request.dump.workload
        for (name, value) in [("dump id", request.dumpID), ("image name", w.imageName), ("image tag", w.imageTag),
                              ("instance id", w.instanceID), ("service", w.service ?? ""), ("host", w.host ?? "")] {
            if value.utf8.count > maxIdentifierBytes {
                throw Rejection("identifier_too_long", "the \(name) is \(value.utf8.count) bytes; at most \(maxIdentifierBytes) are stored")
            }
            if value.utf8.contains(0) { throw Rejection("invalid_string", "the \(name) contains a NUL byte") }
        }
        for key in ProfileNodeKey.nodes(of: request.dump).keys {
            if key.value.utf8.count > maxNodeKeyBytes {
                throw Rejection("node_key_too_long", "a \(key.type.rawValue) node's lineage and activity take \(key.value.utf8.count) bytes; "
                                + "at most \(maxNodeKeyBytes) can be indexed (\(String(key.value.prefix(120)))…)")
            }
            if key.value.utf8.contains(0) { throw Rejection("invalid_string", "a \(key.type.rawValue) node contains a NUL byte") }
        }
    }

    public func check(outputBytes: Int) throws(Rejection) {
        if outputBytes > maxOutputBytes {
            throw Rejection("output_too_large", "the normalised dump is \(outputBytes) bytes as a merge request; at most \(maxOutputBytes) "
                            + "fit a Kafka message (raise BASELINE_MAX_OUTPUT_BYTES with the topic's max.message.bytes)")
        }
    }
}
