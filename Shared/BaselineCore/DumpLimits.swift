/// Bounds a dump must respect to be accepted. A dump over any limit is rejected with the limit
/// named, never truncated silently. All configurable (BASELINE_DUMP_MAX_* in dump-consumer).
public struct DumpLimits: Sendable, Hashable {
    /// Payload bytes as received (before decompression).
    public var maxPayloadBytes: Int = 16 << 20
    /// Bytes after gzip decompression.
    public var maxDecompressedBytes: Int = 64 << 20
    /// Depth of the process tree (roots are depth 1); also bounds JSON/protobuf nesting.
    public var maxDepth: Int = 64
    /// Nodes of every kind (processes, files, DNS names, binds, syscalls, capabilities).
    public var maxNodes: Int = 200_000
    /// Length of any string (paths, names, args) in UTF-8 bytes.
    public var maxStringLength: Int = 4096
    /// Children of one process, and activity entries of one kind on one process.
    public var maxChildren: Int = 10_000

    /// JSON values (scalars, objects, arrays) a JSON dump may hold before it is parsed: 16 per
    /// node, about what Datadog's verbose protobuf JSON spends on a file node.
    public var maxJSONValues: Int { min(maxNodes, Int.max / 32) * 16 }
    /// Repeated elements (processes, file nodes with their directories, DNS nodes and requests,
    /// sockets and binds, syscalls, capabilities, tags, args) a binary protobuf dump may hold.
    public var maxProtobufElements: Int { min(maxNodes, Int.max / 8) * 4 }
    /// Nesting of a JSON dump: four levels per process (`children`, its array, a node, …) and some room.
    public var maxJSONDepth: Int { min(maxDepth, Int.max / 8) * 4 + 16 }

    public init() {}

    public init(maxPayloadBytes: Int = 16 << 20, maxDecompressedBytes: Int = 64 << 20, maxDepth: Int = 64,
                maxNodes: Int = 200_000, maxStringLength: Int = 4096, maxChildren: Int = 10_000) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.maxStringLength = maxStringLength
        self.maxChildren = maxChildren
    }

    /// What a dump that passed `check` still respects once `DumpNormalizer` ran, which the merger
    /// checks normalised dumps against (a request dump-consumer produced must always pass):
    /// normalising can lengthen a path by up to 3 bytes (`/proc/1/…` → `/proc/self/…`) and gathers
    /// the children and activities of folded or merged processes onto one (their total stays
    /// within `maxNodes`, depth only shrinks).
    public var normalized: DumpLimits {
        var limits = self
        limits.maxStringLength = maxStringLength > Int.max - 3 ? Int.max : maxStringLength + 3
        limits.maxChildren = max(maxChildren, maxNodes)
        return limits
    }

    /// Checks a decoded dump; throws the first violation. Every string the dump carries (identity,
    /// workload, paths, arguments, activity) is bounded by `maxStringLength` and must not contain
    /// NUL (`invalid_string`): PostgreSQL's text and jsonb cannot store it, so it is rejected here,
    /// at the edge, rather than failing a database write downstream.
    public func check(_ dump: ActivityDump) throws(Rejection) {
        var nodes = 0
        func str(_ s: String, _ what: @autoclosure () -> String) throws(Rejection) {
            let bytes = s.utf8
            if bytes.count > maxStringLength {
                throw Rejection("string_too_long", "\(what()) is \(bytes.count) bytes, over the limit of \(maxStringLength)")
            }
            if bytes.contains(0) { throw Rejection("invalid_string", "\(what()) contains a NUL character") }
        }
        func str(_ s: String?, _ what: @autoclosure () -> String) throws(Rejection) {
            if let s { try str(s, what()) }
        }
        try str(dump.schema, "the schema")
        try str(dump.id, "the dump id")
        let w = dump.workload
        try str(w.imageName, "the image name")
        try str(w.imageTag, "the image tag")
        try str(w.service, "the service")
        try str(w.containerID, "the container id")
        try str(w.host, "the host")
        try str(w.cluster, "the cluster")
        try str(w.namespace, "the namespace")
        func walk(_ list: [ProcessNode], depth: Int) throws(Rejection) {
            if list.isEmpty { return }
            if depth > maxDepth { throw Rejection("too_deep", "the process tree is deeper than \(maxDepth) levels") }
            if list.count > maxChildren {
                throw Rejection("too_many_children", "a process has \(list.count) children, over the limit of \(maxChildren)")
            }
            for p in list {
                try str(p.path, "a process path")
                try str(p.argv0, "the argv0 of \(p.path)")
                try str(p.comm, "the comm of \(p.path)")
                for a in p.args { try str(a, "an argument of \(p.path)") }
                for (count, kind) in [(p.files.count, "files"), (p.dns.count, "DNS names"), (p.binds.count, "binds"),
                                      (p.syscalls.count, "syscalls")] where count > maxChildren {
                    throw Rejection("too_many_children", "\(p.path) has \(count) \(kind), over the limit of \(maxChildren)")
                }
                for f in p.files { try str(f.path, "a file path") }
                for d in p.dns {
                    try str(d.name, "a DNS name")
                    try str(d.type, "a DNS query type")
                }
                for b in p.binds {
                    try str(b.family, "a bind's address family")
                    try str(b.ip, "a bind's address")
                    try str(b.protocol, "a bind's protocol")
                }
                for s in p.syscalls { try str(s, "a syscall") }
                for c in p.capabilities { try str(c, "a capability") }
                nodes += 1 + p.files.count + p.dns.count + p.binds.count + p.syscalls.count + p.capabilities.count
                if nodes > maxNodes { throw Rejection("too_many_nodes", "the dump has more than \(maxNodes) nodes") }
                try walk(p.children, depth: depth + 1)
            }
        }
        try walk(dump.processes, depth: 1)
    }
}
