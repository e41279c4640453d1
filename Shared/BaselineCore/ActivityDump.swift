/// Baseline's activity dump: a process tree with the activity of each process. This is both
/// Baseline's own input format (`schemas/activity-dump.v1.json`) and the normalised form the
/// dump-consumer hands to the profile-merger; other formats convert to it.
public struct ActivityDump: Codable, Hashable, Sendable {
    public static let schemaV1 = "baseline.activity-dump/v1"

    public var schema: String
    /// The dump's own id (agent dump name); else a content hash is used downstream.
    public var id: String?
    public var workload: Workload
    /// Recording window, nanoseconds since the epoch.
    public var start: Int64?
    public var end: Int64?
    /// When set, process identity includes the arguments.
    public var differentiateArgs: Bool
    /// Root processes of the workload.
    public var processes: [ProcessNode]
    /// The dump is a snapshot (`generation_type: snapshot`): what processes held open at one
    /// instant (read from /proc), not activity recorded as it happened. Learned while a profile
    /// learns, but no lifecycle evidence (docs/model.md, Snapshots).
    public var isSnapshot: Bool

    public init(schema: String = ActivityDump.schemaV1, id: String? = nil, workload: Workload, start: Int64? = nil,
                end: Int64? = nil, differentiateArgs: Bool = false, processes: [ProcessNode], isSnapshot: Bool = false) {
        self.schema = schema
        self.id = id
        self.workload = workload
        self.start = start
        self.end = end
        self.differentiateArgs = differentiateArgs
        self.processes = processes
        self.isSnapshot = isSnapshot
    }

    /// `generation_type` of a snapshot (Datadog's `SNAPSHOT`, in any case).
    public static let snapshotGenerationType = "snapshot"

    enum CodingKeys: String, CodingKey {
        case schema, id, workload, start, end, differentiateArgs = "differentiate_args", processes, generationType = "generation_type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decodeIfPresent(String.self, forKey: .schema) ?? Self.schemaV1
        id = try c.decodeIfPresent(String.self, forKey: .id)
        workload = try c.decode(Workload.self, forKey: .workload)
        start = try c.decodeIfPresent(Int64.self, forKey: .start)
        end = try c.decodeIfPresent(Int64.self, forKey: .end)
        differentiateArgs = try c.decodeIfPresent(Bool.self, forKey: .differentiateArgs) ?? false
        processes = try c.decodeIfPresent([ProcessNode].self, forKey: .processes) ?? []
        isSnapshot = (try c.decodeIfPresent(String.self, forKey: .generationType))?.lowercased() == Self.snapshotGenerationType
    }

    /// `generation_type` only on snapshots: a runtime dump encodes as it always did (its content
    /// id, a hash of this encoding, stays the same).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encode(workload, forKey: .workload)
        try c.encodeIfPresent(start, forKey: .start)
        try c.encodeIfPresent(end, forKey: .end)
        try c.encode(differentiateArgs, forKey: .differentiateArgs)
        try c.encode(processes, forKey: .processes)
        if isSnapshot { try c.encode(Self.snapshotGenerationType, forKey: .generationType) }
    }

    /// Visits every process, depth first, with its depth (roots are 1).
    public func forEachProcess(_ body: (ProcessNode, Int) throws -> Void) rethrows {
        func walk(_ nodes: [ProcessNode], _ depth: Int) throws {
            for n in nodes {
                try body(n, depth)
                try walk(n.children, depth + 1)
            }
        }
        try walk(processes, 1)
    }

    /// Number of nodes of every kind (processes, files, DNS names, binds, syscalls, capabilities).
    public var nodeCount: Int {
        var count = 0
        forEachProcess { p, _ in count += 1 + p.files.count + p.dns.count + p.binds.count + p.syscalls.count + p.capabilities.count }
        return count
    }
}

/// A process in the dump's tree with the activity it showed.
public struct ProcessNode: Codable, Hashable, Sendable {
    /// Executable path (identity).
    public var path: String
    public var argv0: String?
    public var args: [String]
    public var comm: String?
    public var pid: Int64?
    /// True when this process replaced its parent through exec (re-based onto the parent at normalisation).
    public var isExecChild: Bool
    public var files: [FileAccess]
    public var dns: [DNSRequest]
    public var binds: [SocketBind]
    public var syscalls: [String]
    public var capabilities: [String]
    public var children: [ProcessNode]

    public init(path: String, argv0: String? = nil, args: [String] = [], comm: String? = nil, pid: Int64? = nil,
                isExecChild: Bool = false, files: [FileAccess] = [], dns: [DNSRequest] = [], binds: [SocketBind] = [],
                syscalls: [String] = [], capabilities: [String] = [], children: [ProcessNode] = []) {
        self.path = path
        self.argv0 = argv0
        self.args = args
        self.comm = comm
        self.pid = pid
        self.isExecChild = isExecChild
        self.files = files
        self.dns = dns
        self.binds = binds
        self.syscalls = syscalls
        self.capabilities = capabilities
        self.children = children
    }

    enum CodingKeys: String, CodingKey {
        case path, argv0, args, comm, pid, isExecChild = "is_exec_child", files, dns, binds, syscalls, capabilities, children
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        argv0 = try c.decodeIfPresent(String.self, forKey: .argv0)
        args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
        comm = try c.decodeIfPresent(String.self, forKey: .comm)
        pid = try c.decodeIfPresent(Int64.self, forKey: .pid)
        isExecChild = try c.decodeIfPresent(Bool.self, forKey: .isExecChild) ?? false
        files = try c.decodeIfPresent([FileAccess].self, forKey: .files) ?? []
        dns = try c.decodeIfPresent([DNSRequest].self, forKey: .dns) ?? []
        binds = try c.decodeIfPresent([SocketBind].self, forKey: .binds) ?? []
        syscalls = try c.decodeIfPresent([String].self, forKey: .syscalls) ?? []
        capabilities = try c.decodeIfPresent([String].self, forKey: .capabilities) ?? []
        children = try c.decodeIfPresent([ProcessNode].self, forKey: .children) ?? []
    }
}

/// A file the process opened; flags and modes of the same path are OR-ed at merge.
public struct FileAccess: Codable, Hashable, Sendable {
    public var path: String
    public var flags: UInt32
    public var mode: UInt32

    public init(path: String, flags: UInt32 = 0, mode: UInt32 = 0) {
        self.path = path
        self.flags = flags
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey { case path, flags, mode }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        flags = try c.decodeIfPresent(UInt32.self, forKey: .flags) ?? 0
        mode = try c.decodeIfPresent(UInt32.self, forKey: .mode) ?? 0
    }
}

/// A DNS name the process resolved, with the query type (A, AAAA, …).
public struct DNSRequest: Codable, Hashable, Sendable {
    public var name: String
    public var type: String

    public init(name: String, type: String = "A") {
        self.name = name
        self.type = type
    }

    enum CodingKeys: String, CodingKey { case name, type }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? "A"
    }
}

/// A socket the process bound: identity is (family, ip, port, protocol).
public struct SocketBind: Codable, Hashable, Sendable {
    public var family: String
    public var ip: String
    public var port: Int
    public var `protocol`: String

    public init(family: String = "AF_INET", ip: String = "0.0.0.0", port: Int, protocol: String = "tcp") {
        self.family = family
        self.ip = ip
        self.port = port
        self.protocol = `protocol`
    }

    enum CodingKeys: String, CodingKey { case family, ip, port, `protocol` }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        family = try c.decodeIfPresent(String.self, forKey: .family) ?? "AF_INET"
        ip = try c.decodeIfPresent(String.self, forKey: .ip) ?? "0.0.0.0"
        port = try c.decode(Int.self, forKey: .port)
        self.protocol = try c.decodeIfPresent(String.self, forKey: .protocol) ?? "tcp"
    }
}
