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

extension ProtobufReader.Value {
    var integer: Int64? {
        switch self {
        case .varint(let v), .fixed64(let v): return Int64(bitPattern: v)
        case .fixed32(let v): return Int64(v)
        case .bytes: return nil
        }
    }

    func string() throws(Rejection) -> String {
        guard case .bytes(let b) = self else { throw ProtobufReader.malformed("expected a string") }
        guard let s = String(validating: b, as: UTF8.self) else {
            throw Rejection("invalid_utf8", "a string field of the protobuf dump is not valid UTF-8")
        }
        return s
    }

    func message() throws(Rejection) -> ArraySlice<UInt8> {
        guard case .bytes(let b) = self else { throw ProtobufReader.malformed("expected an embedded message") }
        return b
    }

    /// Repeated scalar fields may be packed into one length-delimited value.
    func packedIntegers() throws(Rejection) -> [Int64] {
        if let single = integer { return [single] }
        var reader = ProtobufReader(try message())
        var out: [Int64] = []
        while !reader.isAtEnd { out.append(Int64(bitPattern: try reader.varint())) }
        return out
    }
}

/// Decodes binary `SecDump` into the same dictionary shape as its protobuf JSON mapping, so one
/// converter (`DatadogDump`) serves both encodings. Field numbers from DataDog/agent-payload.
enum DatadogDumpProtobuf {
    typealias Reader = ProtobufReader

    static func decode(_ bytes: [UInt8], maxNesting: Int) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes[...])
        var root: [String: Any] = [:]
        var tags: [String] = []
        var tree: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: root["host"] = try value.string()
            case 2: root["service"] = try value.string()
            case 3: root["source"] = try value.string()
            case 4: root["metadata"] = try metadata(value.message())
            case 5: tags.append(try value.string())
            case 6: tree.append(try process(value.message(), depth: 1, maxNesting: maxNesting))
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
            case 5: m["name"] = try value.string()
            case 7: m["differentiate_args"] = (value.integer ?? 0) != 0
            case 9: m["container_id"] = try value.string()
            case 10: m["start"] = value.integer.map { String($0) }
            case 11: m["end"] = value.integer.map { String($0) }
            default: continue
            }
        }
        return m
    }

    static func process(_ bytes: ArraySlice<UInt8>, depth: Int, maxNesting: Int) throws(Rejection) -> [String: Any] {
        if depth > maxNesting { throw Rejection("too_deep", "the process tree is nested deeper than \(maxNesting) levels") }
        var r = Reader(bytes)
        var node: [String: Any] = [:]
        var children: [Any] = [], files: [Any] = [], dns: [Any] = [], sockets: [Any] = []
        var syscalls: [Any] = [], syscallNodes: [Any] = [], capabilities: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: node["process"] = try processInfo(value.message())
            case 3: children.append(try process(value.message(), depth: depth + 1, maxNesting: maxNesting))
            case 4: files.append(try fileNode(value.message(), depth: 1, maxNesting: maxNesting * 4))
            case 5: dns.append(try dnsNode(value.message()))
            case 6: sockets.append(try socketNode(value.message()))
            case 7: syscalls += try value.packedIntegers().map { $0 as Any }
            case 12: syscallNodes.append(try simple(value.message(), ints: [1: "syscall"], strings: [2: "syscall_name"]))
            case 15: capabilities.append(try capability(value.message()))
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

    static func processInfo(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var p: [String: Any] = [:]
        var args: [String] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: p["pid"] = value.integer
            case 6: p["file"] = try simple(value.message(), ints: [:], strings: [11: "path", 12: "basename"])
            case 11: p["comm"] = try value.string()
            case 16: args.append(try value.string())
            case 17: p["argv0"] = try value.string()
            case 21: p["is_exec_child"] = (value.integer ?? 0) != 0
            default: continue
            }
        }
        p["args"] = args
        return p
    }

    static func fileNode(_ bytes: ArraySlice<UInt8>, depth: Int, maxNesting: Int) throws(Rejection) -> [String: Any] {
        if depth > maxNesting { throw Rejection("too_deep", "a file tree is nested deeper than \(maxNesting) levels") }
        var r = Reader(bytes)
        var f: [String: Any] = [:]
        var children: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: f["name"] = try value.string()
            case 2: f["file"] = try simple(value.message(), ints: [:], strings: [11: "path"])
            case 5: f["open"] = try simple(value.message(), ints: [2: "flags", 3: "mode"], strings: [:])
            case 6: children.append(try fileNode(value.message(), depth: depth + 1, maxNesting: maxNesting))
            default: continue
            }
        }
        f["children"] = children
        return f
    }

    static func dnsNode(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var requests: [Any] = []
        while let (field, value) = try r.next() {
            if field == 1 { requests.append(try simple(value.message(), ints: [2: "type"], strings: [1: "name"])) }
        }
        return ["requests": requests]
    }

    static func socketNode(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var s: [String: Any] = [:]
        var binds: [Any] = []
        while let (field, value) = try r.next() {
            switch field {
            case 1: s["family"] = try value.string()
            case 2: binds.append(try simple(value.message(), ints: [1: "port", 4: "protocol"], strings: [2: "ip"]))
            default: continue
            }
        }
        s["bind"] = binds
        return s
    }

    static func capability(_ bytes: ArraySlice<UInt8>) throws(Rejection) -> [String: Any] {
        let c = try simple(bytes, ints: [1: "capability_number"], strings: [:])
        guard let n = c["capability_number"] as? Int64 else { return [:] }
        return ["capability": "cap_\(n)"]
    }

    /// A flat message of scalar fields.
    static func simple(_ bytes: ArraySlice<UInt8>, ints: [Int: String], strings: [Int: String]) throws(Rejection) -> [String: Any] {
        var r = Reader(bytes)
        var out: [String: Any] = [:]
        while let (field, value) = try r.next() {
            if let name = ints[field] { out[name] = value.integer } else if let name = strings[field] { out[name] = try value.string() }
        }
        return out
    }
}
