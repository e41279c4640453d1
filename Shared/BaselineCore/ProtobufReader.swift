/// A minimal protobuf wire-format reader: enough to decode Datadog's `SecDump` without a code
/// generator or runtime dependency. Every read is bounds-checked; malformed input throws.
struct ProtobufReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)

        var wireType: Int {
            switch self {
            case .varint: 0
            case .fixed64: 1
            case .bytes: 2
            case .fixed32: 5
            }
        }
    }

    static func malformed(_ what: String) -> Rejection {
        Rejection("invalid_protobuf", "not a valid protobuf SecDump: \(what)")
    }

    /// The next field number and value, or nil at the end of the message.
    mutating func next() throws(Rejection) -> (Int, Value)? {
        if bytes.isEmpty { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        guard field > 0 && field < (1 << 29) else { throw Self.malformed("field number \(field)") }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count) else { throw Self.malformed("length \(length) past the end (truncated?)") }
            let value = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (field, .bytes(value))
        case 5: return (field, .fixed32(UInt32(try fixed(4))))
        default: throw Self.malformed("unsupported wire type \(key & 7) for field \(field)")
        }
    }

    var isAtEnd: Bool { bytes.isEmpty }

    mutating func varint() throws(Rejection) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw Self.malformed("varint longer than 10 bytes") }
        }
        throw Self.malformed("truncated varint")
    }

    private mutating func fixed(_ n: Int) throws(Rejection) -> UInt64 {
        guard bytes.count >= n else { throw Self.malformed("truncated fixed-width value") }
        var v: UInt64 = 0
        for (i, b) in bytes.prefix(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        bytes = bytes.dropFirst(n)
        return v
    }
}

/// Typed access to a field's value, by the scalar type the schema declares. A value whose wire
/// type does not fit the declared type is rejected (`invalid_protobuf`), naming the field: it
/// would otherwise be read as something it is not.
extension ProtobufReader.Value {
    private func wrongType(_ field: String, _ expected: String) -> Rejection {
        ProtobufReader.malformed("\(field) has wire type \(wireType), expected \(expected)")
    }

    private func rawVarint(_ field: String) throws(Rejection) -> UInt64 {
        guard case .varint(let v) = self else { throw wrongType(field, "varint") }
        return v
    }

    /// `uint32`: the low 32 bits of the varint (as every protobuf runtime reads it).
    func uint32(_ field: String) throws(Rejection) -> UInt32 { UInt32(truncatingIfNeeded: try rawVarint(field)) }

    /// `int32` and enums: negative values are sign-extended to ten bytes on the wire.
    func int32(_ field: String) throws(Rejection) -> Int32 { Int32(truncatingIfNeeded: try rawVarint(field)) }

    func uint64(_ field: String) throws(Rejection) -> UInt64 { try rawVarint(field) }

    /// `sint64`: zigzag-encoded.
    func sint64(_ field: String) throws(Rejection) -> Int64 {
        let v = try rawVarint(field)
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    func bool(_ field: String) throws(Rejection) -> Bool { try rawVarint(field) != 0 }

    func string(_ field: String) throws(Rejection) -> String {
        guard case .bytes(let b) = self else { throw wrongType(field, "a length-delimited string") }
        guard let s = String(validating: b, as: UTF8.self) else {
            throw Rejection("invalid_utf8", "the string field \(field) of the protobuf dump is not valid UTF-8")
        }
        return s
    }

    func message(_ field: String) throws(Rejection) -> ArraySlice<UInt8> {
        guard case .bytes(let b) = self else { throw wrongType(field, "an embedded message") }
        return b
    }

    /// How many values `packedUInt32s` would return, counted without decoding them.
    var packedCount: Int {
        switch self {
        case .bytes(let b): b.reduce(0) { $0 + ($1 & 0x80 == 0 ? 1 : 0) }
        default: 1
        }
    }

    /// `repeated uint32`: packed (one length-delimited run of varints, proto3's default) or one
    /// varint per occurrence; parsers must accept both.
    func packedUInt32s(_ field: String) throws(Rejection) -> [UInt32] {
        switch self {
        case .varint(let v): return [UInt32(truncatingIfNeeded: v)]
        case .bytes(let b):
            var reader = ProtobufReader(b)
            var out: [UInt32] = []
            while !reader.isAtEnd { out.append(UInt32(truncatingIfNeeded: try reader.varint())) }
            return out
        default: throw wrongType(field, "varints (packed or not)")
        }
    }
}

/// Bounds what a hostile message makes the protobuf decoder allocate before the dump's limits are
/// checked: no repeated field of one message longer than `maxChildren` (`too_many_children`), and
/// no more than `maxProtobufElements` repeated elements in all (`too_many_nodes`). 16 MiB of packed
/// syscalls once took 1.1 GB and 10 s to reject.
final class ElementBudget {
    let maxChildren: Int
    let maxElements: Int
    private(set) var remaining: Int

    init(_ limits: DumpLimits) {
        maxChildren = limits.maxChildren
        maxElements = limits.maxProtobufElements
        remaining = maxElements
    }

    /// Accounts for `n` more elements of a repeated field that already holds `count`.
    func take(_ n: Int = 1, into count: Int, _ field: String) throws(Rejection) {
        if count + n > maxChildren {
            throw Rejection("too_many_children", "\(field) has more than \(maxChildren) elements")
        }
        remaining -= n
        if remaining < 0 { throw Rejection("too_many_nodes", "the dump has more than \(maxElements) repeated elements") }
    }
}

/// Decodes binary `SecDump` into the same dictionary shape as its protobuf JSON mapping (proto
/// field names; 64-bit integers as decimal strings; enums by name when named), so one converter
/// (`DatadogDump`) serves both encodings.
///
/// Field numbers and types: DataDog/agent-payload `proto/cws/dumpsv1/activity_dump.proto` (see
/// docs/dump-formats.md for the table). Only fields Baseline uses are read; every other field
/// (image_tags, node_base, matched_rules, credentials, IMDS and network-device nodes, …) is skipped
/// like an unknown field. Like any proto3 reader, a field left out means its zero value: the
/// converter treats "absent" and "zero" alike, so both encodings give the same dump.
enum DatadogDumpProtobuf {
    typealias Reader = ProtobufReader

    /// `GenerationType` names; other numbers stay numbers (as in the JSON mapping).
    static let generationTypes: [Int32: String] = [0: "UNKNOWN", 1: "RUNTIME", 2: "SNAPSHOT"]

    static func decode(_ bytes: [UInt8], maxNesting: Int, budget: ElementBudget = ElementBudget(DumpLimits())) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes[...])
        var root: [String: Any] = [:]
        var tags: [String] = []
        var tree: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: root["host"] = try value.string("SecDump.host")
            case 2: root["service"] = try value.string("SecDump.service")
            case 3: root["source"] = try value.string("SecDump.source")
            case 4: root["metadata"] = try metadata(value.message("SecDump.metadata"))
            case 5:
                try budget.take(into: tags.count, "SecDump.tags")
                tags.append(try value.string("SecDump.tags"))
            case 6:
                try budget.take(into: tree.count, "SecDump.tree")
                tree.append(try process(value.message("SecDump.tree"), depth: 1, maxNesting: maxNesting, budget: budget))
            default: continue
            }
        }
        root["tags"] = tags
        root["tree"] = tree
        return root
    }

    static func metadata(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var m: [String: Any] = [:]
        while let (field, value) = try r.next() {
            switch field {
            case 5: m["name"] = try value.string("Metadata.name")
            case 7: m["differentiate_args"] = try value.bool("Metadata.differentiate_args")
            case 9: m["container_id"] = try value.string("Metadata.container_id")
            case 10: m["start"] = String(try value.uint64("Metadata.start"))
            case 11: m["end"] = String(try value.uint64("Metadata.end"))
            default: continue
            }
        }
        return m
    }

    static func process(_ bytes: ArraySlice<UInt8>, depth: Int, maxNesting: Int, budget: ElementBudget) throws(Rejection) -> [String: Any] {
        if depth > maxNesting { throw Rejection("too_deep", "the process tree is nested deeper than \(maxNesting) levels") }
        var r = Reader(bytes)
        var node: [String: Any] = [:]
        var children: [Any] = [], files: [Any] = [], dns: [Any] = [], sockets: [Any] = []
        var syscalls: [Any] = [], syscallNodes: [Any] = [], capabilities: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: node["process"] = try processInfo(value.message("ProcessActivityNode.process"), budget: budget)
            case 3:
                try budget.take(into: children.count, "ProcessActivityNode.children")
                children.append(try process(value.message("ProcessActivityNode.children"), depth: depth + 1, maxNesting: maxNesting, budget: budget))
            case 4:
                try budget.take(into: files.count, "ProcessActivityNode.files")
                files.append(try fileNode(value.message("ProcessActivityNode.files"), depth: 1, maxNesting: maxNesting * 4, budget: budget))
            case 5:
                try budget.take(into: dns.count, "ProcessActivityNode.dns_names")
                dns.append(try dnsNode(value.message("ProcessActivityNode.dns_names"), budget: budget))
            case 6:
                try budget.take(into: sockets.count, "ProcessActivityNode.sockets")
                sockets.append(try socketNode(value.message("ProcessActivityNode.sockets"), budget: budget))
            case 7:
                // Counted before decoding: one packed field can hold millions of varints.
                try budget.take(value.packedCount, into: syscalls.count, "ProcessActivityNode.syscalls")
                syscalls += try value.packedUInt32s("ProcessActivityNode.syscalls").map { Int($0) as Any }
            case 8: node["generation_type"] = enumValue(try value.int32("ProcessActivityNode.generation_type"), generationTypes)
            case 12:
                try budget.take(into: syscallNodes.count, "ProcessActivityNode.syscall_nodes")
                syscallNodes.append(try syscallNode(value.message("ProcessActivityNode.syscall_nodes")))
            case 15:
                try budget.take(into: capabilities.count, "ProcessActivityNode.capability_nodes")
                capabilities.append(try capabilityNode(value.message("ProcessActivityNode.capability_nodes")))
            default: continue
            }
        }
        node["children"] = children
        node["files"] = files
        node["dns_names"] = dns
        node["sockets"] = sockets
        node["syscalls"] = syscalls
        node["syscall_nodes"] = syscallNodes
        node["capability_nodes"] = capabilities
        return node
    }

    static func processInfo(_ bytes: ArraySlice<UInt8>, budget: ElementBudget) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var p: [String: Any] = [:]
        var args: [String] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: p["pid"] = Int(try value.uint32("ProcessInfo.pid"))
            case 6: p["file"] = try fileInfo(value.message("ProcessInfo.file"))
            case 11: p["comm"] = try value.string("ProcessInfo.comm")
            case 16:
                try budget.take(into: args.count, "ProcessInfo.args")
                args.append(try value.string("ProcessInfo.args"))
            case 17: p["argv0"] = try value.string("ProcessInfo.argv0")
            case 21: p["is_exec_child"] = try value.bool("ProcessInfo.is_exec_child")
            default: continue
            }
        }
        p["args"] = args
        return p
    }

    static func fileInfo(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var f: [String: Any] = [:]
        while let (field, value) = try r.next() {
            switch field {
            case 11: f["path"] = try value.string("FileInfo.path")
            case 12: f["basename"] = try value.string("FileInfo.basename")
            default: continue
            }
        }
        return f
    }

    static func fileNode(_ bytes: ArraySlice<UInt8>, depth: Int, maxNesting: Int, budget: ElementBudget) throws(Rejection) -> [String: Any] {
        if depth > maxNesting { throw Rejection("too_deep", "a file tree is nested deeper than \(maxNesting) levels") }
        var r = Reader(bytes)
        var f: [String: Any] = [:]
        var children: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: f["name"] = try value.string("FileActivityNode.name")
            case 2: f["file"] = try fileInfo(value.message("FileActivityNode.file"))
            case 5: f["open"] = try openNode(value.message("FileActivityNode.open"))
            case 6:
                try budget.take(into: children.count, "FileActivityNode.children")
                children.append(try fileNode(value.message("FileActivityNode.children"), depth: depth + 1, maxNesting: maxNesting, budget: budget))
            case 8: f["generation_type"] = enumValue(try value.int32("FileActivityNode.generation_type"), generationTypes)
            default: continue
            }
        }
        f["children"] = children
        return f
    }

    static func openNode(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var o: [String: Any] = [:]
        while let (field, value) = try r.next() {
            switch field {
            case 1: o["retval"] = String(try value.sint64("OpenNode.retval"))
            case 2: o["flags"] = Int(try value.uint32("OpenNode.flags"))
            case 3: o["mode"] = Int(try value.uint32("OpenNode.mode"))
            default: continue
            }
        }
        return o
    }

    static func dnsNode(_ bytes: ArraySlice<UInt8>, budget: ElementBudget) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var requests: [Any] = []
        while let (field, value) = try r.next() {
            guard field == 1 else { continue }
            try budget.take(into: requests.count, "DNSNode.requests")
            requests.append(try dnsInfo(value.message("DNSNode.requests")))
        }
        return ["requests": requests]
    }

    static func dnsInfo(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var d: [String: Any] = [:]
        while let (field, value) = try r.next() {
            switch field {
            case 1: d["name"] = try value.string("DNSInfo.name")
            case 2: d["type"] = Int(try value.uint32("DNSInfo.type"))
            default: continue
            }
        }
        return d
    }

    static func socketNode(_ bytes: ArraySlice<UInt8>, budget: ElementBudget) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var s: [String: Any] = [:]
        var binds: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: s["family"] = try value.string("SocketNode.family")
            case 2:
                try budget.take(into: binds.count, "SocketNode.bind")
                binds.append(try bindNode(value.message("SocketNode.bind")))
            default: continue
            }
        }
        s["bind"] = binds
        return s
    }

    /// `BindNode`: port 1, ip 2, matched_rules 3, image_tags 4, protocol 5, node_base 6.
    static func bindNode(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var b: [String: Any] = [:]
        while let (field, value) = try r.next() {
            switch field {
            case 1: b["port"] = Int(try value.uint32("BindNode.port"))
            case 2: b["ip"] = try value.string("BindNode.ip")
            case 5: b["protocol"] = Int(try value.uint32("BindNode.protocol"))
            default: continue
            }
        }
        return b
    }

    /// `SyscallNode`: image_tags 1, syscall 2 (int32), node_base 3.
    static func syscallNode(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var s: [String: Any] = [:]
        while let (field, value) = try r.next() {
            if field == 2 { s["syscall"] = Int(try value.int32("SyscallNode.syscall")) }
        }
        return s
    }

    /// `CapabilityNode`: node_base 1, capability 2 (uint64), is_capable 3.
    static func capabilityNode(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var c: [String: Any] = [:]
        while let (field, value) = try r.next() {
            switch field {
            case 2: c["capability"] = String(try value.uint64("CapabilityNode.capability"))
            case 3: c["is_capable"] = try value.bool("CapabilityNode.is_capable")
            default: continue
            }
        }
        return c
    }

    /// An enum as the JSON mapping writes it: its name, or its number when it has none.
    static func enumValue(_ n: Int32, _ names: [Int32: String]) -> Any { names[n] ?? Int(n) }
}
