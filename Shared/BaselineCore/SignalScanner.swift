/// The fields of a signal that `SecuritySignal.parse` reads, taken in one pass over the bytes
/// without building Foundation's object tree (which, with the casts out of it, was 41 % of the
/// enricher's time).
///
/// It is a fast path, not a second parser: it accepts only plain input and returns nil for
/// anything else, and then the general parser (Foundation's `JSONSerialization`) decides, so it
/// can only ever agree with it. Nil, among others, for: any syntax error, a trailing comma, a
/// number with an exponent or more than 18 digits, a `\u` escape of a surrogate (lone or
/// paired), a control character or invalid UTF-8 anywhere, a key with an escape or a non-ASCII
/// byte in an object whose members it reads, a member it reads given twice in one object (the
/// general parser keeps the last one), or a value of another type than the one it reads (a
/// number for a path, a fraction for a pid). `null` reads as absent, as the general parser's
/// casts do, except for the top-level `baseline` member, whose presence alone is what counts.
/// `SignalScannerEquivalenceTests` compares both on fuzzed, generated and attack-shaped signals.
struct SignalScanner {
    /// One process of the lineage, as its object gives it.
    struct Process {
        var executablePath: String?
        var filePath: String?
        var argv0: String?
        var args: [String] = []
        var pid: Int64?
        var containerID: String?
        var truncatedAncestors = false
        /// nil: no `ancestors` array; its elements, nil for one that is not an object.
        var ancestors: [Process?]?
        /// `parent` when it is an object (one element at most).
        var parent: [Process] = []
    }

    var id: String?
    var hasBaseline = false
    var eventName: String?
    var ruleID: String?
    var process: Process?
    var filePath: String?
    var fileFlags: Int64?
    var dnsName: String?
    var dnsType: String?
    var bindProtocol: String?
    var addrIP: String?
    var addrPort: Int64?
    var addrFamily: String?
    var addrProtocol: String?
    var containerID: String?
    /// `container.created_at` and `date` as the general parser would hand them to `Timestamps`.
    var containerCreatedAt: TimeValue?
    var date: TimeValue?
    var tags: [String] = []
    var profileTags: [String] = []

    enum TimeValue {
        case integer(Int64)
        case string(String)

        var any: Any {
            switch self {
            case .integer(let n): n
            case .string(let s): s
            }
        }
    }

    /// The fields, or nil when the input is not plain enough for this path.
    static func scan(_ bytes: [UInt8]) -> SignalScanner? {
        bytes.withUnsafeBufferPointer { buffer -> SignalScanner? in
            var reader = JSONByteReader(buffer, maxDepth: SecuritySignal.maxNesting)
            var fields = SignalScanner()
            guard reader.skipSpace(), reader.peek == UInt8(ascii: "{"), reader.signalRoot(&fields) else { return nil }
            _ = reader.skipSpace()
            guard reader.at == buffer.count else { return nil }
            if reader.sawNonASCII && String(validating: buffer, as: UTF8.self) == nil { return nil }
            return fields
        }
    }
}

/// The signal's objects, read by `SignalScanner`.
extension JSONByteReader {
    /// A timestamp member as `Timestamps.nanoseconds` would be handed it.
    mutating func time() -> SignalScanner.TimeValue?? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .null: return literal("null") ? .some(nil) : nil
        case .number:
            guard case .integer(let n)? = number() else { return nil }
            return .some(.integer(n))
        case .string:
            guard let s = string(), let s else { return nil }
            return .some(.string(s))
        default: return nil
        }
    }

    // MARK: the signal's objects

    static let signalRootKeys: [StaticString] = ["id", "baseline", "evt", "agent", "process", "file", "dns", "bind", "container",
                                           "tags", "security_profile", "date"]

    mutating func signalRoot(_ f: inout SignalScanner) -> Bool {
        var seen = Seen()
        var ok = true
        let done = object { r, k in
            guard let n = Self.key(k, in: Self.signalRootKeys) else { return r.skipOther(k) }
            guard seen.first(n) else { return false }
            switch n {
            case 0: guard let v = r.string() else { return false }; f.id = v
            case 1: f.hasBaseline = true; return r.skipValue()
            case 2:
                return r.singleMember("name") { r in r.string().map { f.eventName = $0 } != nil } != nil
            case 3:
                return r.singleMember("rule_id") { r in r.string().map { f.ruleID = $0 } != nil } != nil
            case 4:
                var p = SignalScanner.Process()
                guard let present = r.signalProcess(&p, root: true) else { return false }
                if present { f.process = p }
            case 5:
                var s = Seen()
                return r.nested { r, k in
                    switch Self.key(k, in: ["path", "flags"]) {
                    case 0?: return s.first(0) && r.string().map { f.filePath = $0 } != nil
                    case 1?: return s.first(1) && r.int64().map { f.fileFlags = $0 } != nil
                    default: return r.skipOther(k)
                    }
                } != nil
            case 6:
                return r.singleMember("question") { r in
                    var s = Seen()
                    return r.nested { r, k in
                        switch Self.key(k, in: ["name", "type"]) {
                        case 0?: return s.first(0) && r.string().map { f.dnsName = $0 } != nil
                        case 1?: return s.first(1) && r.string().map { f.dnsType = $0 } != nil
                        default: return r.skipOther(k)
                        }
                    } != nil
                } != nil
            case 7:
                var s = Seen()
                return r.nested { r, k in
                    switch Self.key(k, in: ["protocol", "addr"]) {
                    case 0?: return s.first(0) && r.string().map { f.bindProtocol = $0 } != nil
                    case 1?:
                        var a = Seen()
                        return s.first(1) && r.nested { r, k in
                            switch Self.key(k, in: ["ip", "port", "family", "protocol"]) {
                            case 0?: return a.first(0) && r.string().map { f.addrIP = $0 } != nil
                            case 1?: return a.first(1) && r.int64().map { f.addrPort = $0 } != nil
                            case 2?: return a.first(2) && r.string().map { f.addrFamily = $0 } != nil
                            case 3?: return a.first(3) && r.string().map { f.addrProtocol = $0 } != nil
                            default: return r.skipOther(k)
                            }
                        } != nil
                    default: return r.skipOther(k)
                    }
                } != nil
            case 8:
                var s = Seen()
                return r.nested { r, k in
                    switch Self.key(k, in: ["id", "created_at"]) {
                    case 0?: return s.first(0) && r.string().map { f.containerID = $0 } != nil
                    case 1?: return s.first(1) && r.time().map { f.containerCreatedAt = $0 } != nil
                    default: return r.skipOther(k)
                    }
                } != nil
            case 9: guard let v = r.strings() else { return false }; f.tags = v
            case 10:
                return r.singleMember("tags") { r in r.strings().map { f.profileTags = $0 } != nil } != nil
            case 11: guard let v = r.time() else { return false }; f.date = v
            default: ok = false
            }
            return true
        }
        return done && ok
    }

    static let signalProcessKeys: [StaticString] = ["executable", "file", "argv0", "args", "pid", "container", "truncated_ancestors",
                                              "ancestors", "parent"]

    /// A process object (the signal's own with `root`, else an ancestor or parent); nil gives up,
    /// false: `null`.
    mutating func signalProcess(_ p: inout SignalScanner.Process, root: Bool) -> Bool? {
        var seen = Seen()
        return nested { r, k in
            guard let n = Self.key(k, in: Self.signalProcessKeys), root || n < 6 else { return r.skipOther(k) }
            guard seen.first(n) else { return false }
            switch n {
            case 0: return r.pathObject { p.executablePath = $0 }
            case 1: return r.pathObject { p.filePath = $0 }
            case 2: return r.string().map { p.argv0 = $0 } != nil
            case 3: return r.strings().map { p.args = $0 } != nil
            case 4: return r.int64().map { p.pid = $0 } != nil
            case 5:
                var s = Seen()
                return r.nested { r, k in
                    Self.key(k, in: ["id"]) != nil ? s.first(0) && r.string().map { p.containerID = $0 } != nil : r.skipOther(k)
                } != nil
            case 6: return r.bool().map { p.truncatedAncestors = $0 } != nil
            case 7:
                guard r.skipSpace() else { return false }
                if r.kind() == .null { return r.literal("null") }
                var list: [SignalScanner.Process?] = []
                let ok = r.array { r in
                    guard r.skipSpace() else { return false }
                    guard r.kind() == .object else {
                        list.append(nil)
                        return r.skipValue()
                    }
                    var a = SignalScanner.Process()
                    guard r.signalProcess(&a, root: false) != nil else { return false }
                    list.append(a)
                    return true
                }
                p.ancestors = list
                return ok
            case 8:
                guard r.skipSpace() else { return false }
                if r.kind() != .object { return r.kind() == .null ? r.literal("null") : false }
                var a = SignalScanner.Process()
                guard r.signalProcess(&a, root: false) != nil else { return false }
                p.parent = [a]
                return true
            default: return false
            }
        }
    }

    /// `{"path": …}` (an executable or file object).
    mutating func pathObject(_ set: (String?) -> Void) -> Bool {
        var seen = Seen()
        return nested { r, k in
            Self.key(k, in: ["path"]) != nil ? seen.first(0) && r.string().map { set($0) } != nil : r.skipOther(k)
        } != nil
    }
}

extension SignalScanner {
    /// The signal these fields make, built as `SecuritySignal.parseTree` builds it from the tree.
    func signal() throws(Rejection) -> SecuritySignal {
        guard !hasBaseline else {
            throw Rejection("reserved_member", "the signal already has a top-level `baseline` member, which Baseline adds itself")
        }
        guard let eventName, !eventName.isEmpty else { throw Rejection("missing_event_type", "the signal has no evt.name") }
        var ancestors: [SignalProcess] = []
        var ancestry = SignalAncestry.none
        var incomplete = process?.truncatedAncestors ?? false
        if let list = process?.ancestors {
            ancestry = .ancestors
            for item in list {
                guard let item, let p = Self.signalProcess(item) else {
                    incomplete = true
                    continue
                }
                ancestors.append(p)
            }
        } else if let parentObject = process?.parent.first {
            ancestry = .parentOnly
            if let parent = Self.signalProcess(parentObject) { ancestors = [parent] } else { incomplete = true }
        }
        let containerID = SecuritySignal.nonEmpty(containerID) ?? SecuritySignal.nonEmpty(process?.containerID)
        let tagValues = WorkloadTags.values(tags + profileTags)
        var signal = SecuritySignal(
            ruleID: ruleID,
            eventName: eventName,
            processPath: process?.executablePath,
            pid: process?.pid,
            argv0: process?.argv0,
            args: process?.args ?? [],
            ancestors: ancestors,
            ancestry: ancestry,
            filePath: filePath,
            dnsName: dnsName,
            dnsType: dnsType,
            bindIP: addrIP,
            bindPort: addrPort.flatMap { Int(exactly: $0) },
            bindFamily: addrFamily,
            bindProtocol: bindProtocol ?? addrProtocol,
            containerID: containerID,
            workload: WorkloadTags.workload(values: tagValues, containerID: containerID))
        signal.id = id
        signal.ancestorsIncomplete = incomplete
        signal.fileFlags = fileFlags.map { UInt32(truncatingIfNeeded: $0) }
        signal.hasImageTag = tagValues["image_tag"] != nil
        signal.containerCreatedAt = Timestamps.nanoseconds(containerCreatedAt?.any)
        signal.date = Timestamps.nanoseconds(date?.any)
        try signal.checkStrings()
        return signal
    }

    static func signalProcess(_ p: Process) -> SignalProcess? {
        guard let path = p.executablePath ?? p.filePath, !path.isEmpty else { return nil }
        return SignalProcess(path: path, argv0: p.argv0, args: p.args, pid: p.pid, containerID: SecuritySignal.nonEmpty(p.containerID))
    }
}
