/// Reads a Baseline activity dump, or a merge request around one, in one pass over the bytes,
/// as `JSONDecoder` with the types' `init(from:)` reads them (the same defaults: a missing
/// `image_tag` is `latest`, a missing `type` is `A`, …), without the decoder's boxing: decoding
/// was 35 % of the profile-merger's time and, for Baseline dumps, most of the dump-consumer's.
///
/// A fast path with the rules of `JSONByteReader`: nil for anything outside its plain subset of
/// JSON, for a member given twice, a key with an escape or a non-ASCII byte in an object it
/// reads, `null` or a missing member where the type requires one, or a value of another type
/// (a string for a pid, a fraction or an out-of-range number for flags), and then `JSONDecoder`
/// decides, with its own errors. The equivalence tests compare both on fuzzed requests and dumps.
enum ActivityDumpReader {
    /// Nesting beyond this (about 30 process levels) is left to the decoder.
    static let maxDepth = 128

    static func mergeRequest(_ bytes: [UInt8]) -> MergeRequest? {
        read(bytes) { r in r.mergeRequest() }
    }

    static func dump(_ bytes: [UInt8]) -> ActivityDump? {
        read(bytes) { r in r.activityDump() }
    }

    static func read<T>(_ bytes: [UInt8], _ body: (inout JSONByteReader) -> T?) -> T? {
        bytes.withUnsafeBufferPointer { buffer -> T? in
            var r = JSONByteReader(buffer, maxDepth: maxDepth, maxIntegerDigits: 20)
            guard r.skipSpace(), let value = body(&r) else { return nil }
            _ = r.skipSpace()
            guard r.at == buffer.count else { return nil }
            if r.sawNonASCII && String(validating: buffer, as: UTF8.self) == nil { return nil }
            return value
        }
    }
}

extension JSONByteReader {
    // MARK: values as `decode` / `decodeIfPresent` read them

    /// A required string (`decode(String.self)`): nil gives up (`null` included).
    mutating func requiredString() -> String? {
        guard skipSpace(), kind() == .string, let s = string() else { return nil }
        return s
    }

    /// An integer of `T` (`decodeIfPresent`): the outer nil gives up, the inner nil is `null`.
    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T?? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .null: return literal("null") ? .some(nil) : nil
        case .number:
            // `-0` for an unsigned type: left to the decoder.
            if !T.isSigned && b[at] == UInt8(ascii: "-") { return nil }
            guard case .integer(let n)? = number(), let v = T(exactly: n) else { return nil }
            return .some(v)
        default: return nil
        }
    }

    /// A bool (`decodeIfPresent`): the outer nil gives up, the inner nil is `null`.
    mutating func boolean() -> Bool?? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .null: return literal("null") ? .some(nil) : nil
        case .trueLiteral: return literal("true") ? .some(true) : nil
        case .falseLiteral: return literal("false") ? .some(false) : nil
        default: return nil
        }
    }

    /// An array of objects (`decodeIfPresent([T].self) ?? []`): nil gives up; `null` is empty.
    mutating func objects<T>(_ element: (inout JSONByteReader) -> T?) -> [T]? {
        guard skipSpace() else { return nil }
        if kind() == .null { return literal("null") ? [] : nil }
        guard kind() == .array else { return nil }
        var out: [T] = []
        let ok = array { r in
            guard r.skipSpace(), r.kind() == .object, let v = element(&r) else { return false }
            out.append(v)
            return true
        }
        return ok ? out : nil
    }

    /// An object whose members (plain keys only, each once) `member` reads by index in `keys`;
    /// unknown members are skipped. False gives up.
    mutating func members(_ keys: [StaticString], _ member: (inout JSONByteReader, Int) -> Bool) -> Bool {
        guard skipSpace(), kind() == .object else { return false }
        var seen = Seen()
        return object { r, k in
            guard let k else { return false }
            guard let n = Self.key(k, in: keys) else { return r.skipValue() }
            return seen.first(n) && member(&r, n)
        }
    }

    // MARK: the types

    mutating func mergeRequest() -> MergeRequest? {
        var schema: String?, dumpID: String?, format: String?, receivedAt: Int64?, dump: ActivityDump?
        let ok = members(["schema", "dump_id", "source_format", "received_at", "dump"]) { r, n in
            switch n {
            case 0: schema = r.requiredString(); return schema != nil
            case 1: dumpID = r.requiredString(); return dumpID != nil
            case 2: format = r.requiredString(); return format != nil
            case 3: receivedAt = r.integer(Int64.self) ?? nil; return receivedAt != nil
            default: dump = r.activityDump(); return dump != nil
            }
        }
        guard ok, let schema, let dumpID, let format, let receivedAt, let dump else { return nil }
        var request = MergeRequest(dumpID: dumpID, sourceFormat: format, receivedAt: receivedAt, dump: dump)
        request.schema = schema
        return request
    }

    mutating func activityDump() -> ActivityDump? {
        var schema: String?, id: String?, workload: Workload?, start: Int64?, end: Int64?
        var differentiateArgs = false, processes: [ProcessNode] = [], generationType: String?
        let ok = members(["schema", "id", "workload", "start", "end", "differentiate_args", "processes", "generation_type"]) { r, n in
            switch n {
            case 0: guard let v = r.string() else { return false }; schema = v
            case 1: guard let v = r.string() else { return false }; id = v
            case 2: workload = r.workload(); return workload != nil
            case 3: guard let v = r.integer(Int64.self) else { return false }; start = v
            case 4: guard let v = r.integer(Int64.self) else { return false }; end = v
            case 5: guard let v = r.boolean() else { return false }; differentiateArgs = v ?? false
            case 6: guard let v = r.objects({ $0.processNode() }) else { return false }; processes = v
            default: guard let v = r.string() else { return false }; generationType = v
            }
            return true
        }
        guard ok, let workload else { return nil }
        return ActivityDump(schema: schema ?? ActivityDump.schemaV1, id: id, workload: workload, start: start, end: end,
                            differentiateArgs: differentiateArgs, processes: processes,
                            isSnapshot: generationType?.lowercased() == ActivityDump.snapshotGenerationType)
    }

    mutating func workload() -> Workload? {
        var strings = [String?](repeating: nil, count: 7)
        var createdAt: Int64?
        let ok = members(["image_name", "image_tag", "service", "container_id", "host", "cluster", "namespace",
                          "container_created_at"]) { r, n in
            if n == 7 {
                guard let v = r.integer(Int64.self) else { return false }
                createdAt = v
                return true
            }
            guard let v = r.string() else { return false }
            strings[n] = v
            return true
        }
        guard ok else { return nil }
        let tag = strings[1] ?? ""
        var w = Workload(imageName: strings[0] ?? "", imageTag: tag.isEmpty ? "latest" : tag, service: strings[2],
                         containerID: strings[3], host: strings[4], cluster: strings[5], namespace: strings[6])
        w.containerCreatedAt = createdAt
        return w
    }

    mutating func processNode() -> ProcessNode? {
        var path: String?
        var p = ProcessNode(path: "")
        let ok = members(["path", "argv0", "args", "comm", "pid", "is_exec_child", "files", "dns", "binds", "syscalls",
                          "capabilities", "children"]) { r, n in
            switch n {
            case 0: path = r.requiredString(); return path != nil
            case 1: guard let v = r.string() else { return false }; p.argv0 = v
            case 2: guard let v = r.strings() else { return false }; p.args = v
            case 3: guard let v = r.string() else { return false }; p.comm = v
            case 4: guard let v = r.integer(Int64.self) else { return false }; p.pid = v
            case 5: guard let v = r.boolean() else { return false }; p.isExecChild = v ?? false
            case 6: guard let v = r.objects({ $0.fileAccess() }) else { return false }; p.files = v
            case 7: guard let v = r.objects({ $0.dnsRequest() }) else { return false }; p.dns = v
            case 8: guard let v = r.objects({ $0.socketBind() }) else { return false }; p.binds = v
            case 9: guard let v = r.strings() else { return false }; p.syscalls = v
            case 10: guard let v = r.strings() else { return false }; p.capabilities = v
            default: guard let v = r.objects({ $0.processNode() }) else { return false }; p.children = v
            }
            return true
        }
        guard ok, let path else { return nil }
        p.path = path
        return p
    }

    mutating func fileAccess() -> FileAccess? {
        var path: String?, flags: UInt32?, mode: UInt32?
        let ok = members(["path", "flags", "mode"]) { r, n in
            switch n {
            case 0: path = r.requiredString(); return path != nil
            case 1: guard let v = r.integer(UInt32.self) else { return false }; flags = v
            default: guard let v = r.integer(UInt32.self) else { return false }; mode = v
            }
            return true
        }
        guard ok, let path else { return nil }
        return FileAccess(path: path, flags: flags ?? 0, mode: mode ?? 0)
    }

    mutating func dnsRequest() -> DNSRequest? {
        var name: String?, type: String?
        let ok = members(["name", "type"]) { r, n in
            if n == 0 {
                name = r.requiredString()
                return name != nil
            }
            guard let v = r.string() else { return false }
            type = v
            return true
        }
        guard ok, let name else { return nil }
        return DNSRequest(name: name, type: type ?? "A")
    }

    mutating func socketBind() -> SocketBind? {
        var family: String?, ip: String?, port: Int?, proto: String?
        let ok = members(["family", "ip", "port", "protocol"]) { r, n in
            switch n {
            case 0: guard let v = r.string() else { return false }; family = v
            case 1: guard let v = r.string() else { return false }; ip = v
            case 2: port = r.integer(Int.self) ?? nil; return port != nil
            default: guard let v = r.string() else { return false }; proto = v
            }
            return true
        }
        guard ok, let port else { return nil }
        return SocketBind(family: family ?? "AF_INET", ip: ip ?? "0.0.0.0", port: port, protocol: proto ?? "tcp")
    }
}
