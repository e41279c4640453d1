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
        try checkNodeKeys(request.dump)
    }

    /// Every node key of the dump fits `maxNodeKeyBytes` and holds no NUL, measured without
    /// building the keys: a key repeats its whole lineage, so a deep tree of long paths with many
    /// activities would take gigabytes as keys while its dump is a few megabytes. Lengths add up
    /// along the lineage, and the walk stops at the first process or activity that goes over, so
    /// the work is bounded by the dump's size (each identity and activity is built once).
    func checkNodeKeys(_ dump: ActivityDump) throws(Rejection) {
        let lineageSeparator = ProfileNodeKey.lineageSeparator.utf8.count
        let activitySeparator = ProfileNodeKey.activitySeparator.utf8.count
        func tooLong(_ type: EventType, _ lineage: [String], _ last: String, bytes: Int, depth: Int) -> Rejection {
            // A readable start of the key: the lineage so far is within the limit, the last part is cut.
            let start = (lineage + [String(last.prefix(120))]).joined(separator: ProfileNodeKey.lineageSeparator).prefix(120)
            return Rejection("node_key_too_long", "a \(type.rawValue) node's lineage and activity reach \(bytes) bytes at depth \(depth) "
                             + "(stopped there); at most \(maxNodeKeyBytes) can be indexed (\(start)…)")
        }
        func walk(_ nodes: [ProcessNode], _ lineage: [String], _ lineageBytes: Int) throws(Rejection) {
            for p in nodes {
                let identity = NodeIdentity.process(path: p.path, argv0: p.argv0, args: p.args, differentiateArgs: dump.differentiateArgs)
                let bytes = lineageBytes + (lineage.isEmpty ? 0 : lineageSeparator) + identity.utf8.count
                if bytes > maxNodeKeyBytes { throw tooLong(.exec, lineage, identity, bytes: bytes, depth: lineage.count + 1) }
                if identity.utf8.contains(0) { throw Rejection("invalid_string", "an exec node contains a NUL byte") }
                let here = lineage + [identity]
                func activity(_ type: EventType, _ value: String) throws(Rejection) {
                    let total = bytes + activitySeparator + value.utf8.count
                    if total > maxNodeKeyBytes { throw tooLong(type, lineage, identity + " | " + value.prefix(120), bytes: total, depth: here.count) }
                    if value.utf8.contains(0) { throw Rejection("invalid_string", "a \(type.rawValue) node contains a NUL byte") }
                }
                for f in p.files { try activity(.file, f.path) }
                for d in p.dns { try activity(.dns, NodeIdentity.dns(name: d.name, type: d.type)) }
                for b in p.binds {
                    try activity(.network, NodeIdentity.bind(family: b.family, ip: b.ip, port: b.port, protocol: b.protocol))
                }
                for s in p.syscalls { try activity(.syscall, s.lowercased()) }
                for c in p.capabilities { try activity(.capability, NodeIdentity.capability(c)) }
                try walk(p.children, here, bytes)
            }
        }
        try walk(dump.processes, [], 0)
    }

    public func check(outputBytes: Int) throws(Rejection) {
        if outputBytes > maxOutputBytes {
            throw Rejection("output_too_large", "the normalised dump is \(outputBytes) bytes as a merge request; at most \(maxOutputBytes) "
                            + "fit a Kafka message (raise BASELINE_MAX_OUTPUT_BYTES with the topic's max.message.bytes)")
        }
    }
}
