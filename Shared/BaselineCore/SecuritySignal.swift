import Foundation

/// One process of a signal's lineage (the signal's own process or an ancestor).
public struct SignalProcess: Sendable, Hashable {
    public var path: String
    public var argv0: String?
    public var args: [String]
    public var pid: Int64?
    /// The container the process ran in; nil when the signal gives none (host processes above the
    /// workload, or an agent that does not report it).
    public var containerID: String?

    public init(path: String, argv0: String? = nil, args: [String] = [], pid: Int64? = nil, containerID: String? = nil) {
        self.path = path
        self.argv0 = argv0
        self.args = args
        self.pid = pid
        self.containerID = containerID
    }
}

/// How much of the process's ancestry a signal carries.
public enum SignalAncestry: String, Sendable, Hashable {
    /// `process.ancestors`: the whole chain.
    case ancestors
    /// Only `process.parent`: one level, the rest unknown.
    case parentOnly = "parent_only"
    /// Neither: the process could be anywhere in the tree.
    case none
}

/// The parts of a security signal (Datadog's security event JSON) that enrichment needs.
public struct SecuritySignal: Sendable, Hashable {
    public var id: String?
    public var ruleID: String?
    /// `evt.name`: exec, open, dns, bind, …
    public var eventName: String
    public var processPath: String?
    public var pid: Int64?
    public var argv0: String?
    public var args: [String]
    /// The parent chain, nearest first.
    public var ancestors: [SignalProcess]
    public var ancestry: SignalAncestry
    /// An ancestor without a resolvable path, or `process.truncated_ancestors`: the chain has a gap.
    public var ancestorsIncomplete = false
    public var filePath: String?
    /// `file.flags` of an open.
    public var fileFlags: UInt32?
    public var dnsName: String?
    public var dnsType: String?
    public var bindIP: String?
    public var bindPort: Int?
    public var bindFamily: String?
    public var bindProtocol: String?
    public var containerID: String?
    /// `container.created_at`, nanoseconds since the epoch.
    public var containerCreatedAt: Int64?
    /// When the event happened (`date`), nanoseconds since the epoch.
    public var date: Int64?
    /// The workload from the signal's tags (image name/tag, service), when present.
    public var workload: Workload?
    /// Whether the tags named the image tag (else `workload.imageTag` is the default `latest`).
    public var hasImageTag: Bool = false

    /// Executable paths of the parent chain, nearest first.
    public var ancestorPaths: [String] { ancestors.map(\.path) }

    /// The signal's own process as a lineage element.
    public var process: SignalProcess? {
        processPath.map { SignalProcess(path: $0, argv0: argv0, args: args, pid: pid, containerID: containerID) }
    }

    public init(ruleID: String? = nil, eventName: String, processPath: String? = nil, pid: Int64? = nil, argv0: String? = nil,
                args: [String] = [], ancestorPaths: [String] = [], ancestors: [SignalProcess]? = nil,
                ancestry: SignalAncestry? = nil, filePath: String? = nil, dnsName: String? = nil, dnsType: String? = nil,
                bindIP: String? = nil, bindPort: Int? = nil, bindFamily: String? = nil, bindProtocol: String? = nil,
                containerID: String? = nil, workload: Workload? = nil) {
        self.ruleID = ruleID
        self.eventName = eventName
        self.processPath = processPath
        self.pid = pid
        self.argv0 = argv0
        self.args = args
        self.ancestors = ancestors ?? ancestorPaths.map { SignalProcess(path: $0) }
        self.ancestry = ancestry ?? (self.ancestors.isEmpty ? .none : .ancestors)
        self.filePath = filePath
        self.dnsName = dnsName
        self.dnsType = dnsType
        self.bindIP = bindIP
        self.bindPort = bindPort
        self.bindFamily = bindFamily
        self.bindProtocol = bindProtocol
        self.containerID = containerID
        self.workload = workload
    }

    /// How deeply a signal's JSON may nest objects and arrays (Datadog's security events nest
    /// about ten levels). Deeper input is rejected (`too_deep`) by a scan of the bytes before the
    /// JSON parser, whose recursion it would otherwise drive.
    public static let maxNesting = 64

    /// Parses a signal; throws a `Rejection` naming what is wrong.
    public static func parse(_ bytes: [UInt8]) throws(Rejection) -> SecuritySignal {
        try parse(bytes, scanning: true)
    }

    /// `scanning: false` leaves the fast path out (what the equivalence tests compare it with).
    static func parse(_ bytes: [UInt8], scanning: Bool) throws(Rejection) -> SecuritySignal {
        if bytes.isEmpty { throw Rejection("empty_payload", "the signal has no payload") }
        // Plain signals (nearly all) in one pass; anything else through Foundation (SignalScanner).
        // What the scanner reads is valid JSON nested at most `maxNesting` deep, which the
        // pre-flight below would pass: it only has to run before the tree.
        if scanning, let fields = SignalScanner.scan(bytes) { return try fields.signal() }
        // The same scan that bounds dumps, with only the depth bound: signals have no node limits.
        if let rejection = LenientJSON.preflight(bytes, maxDepth: maxNesting, maxArray: .max, maxValues: .max) { throw rejection }
        return try parseTree(bytes)
    }

    /// The signal through Foundation's object tree: the general path, which the scanner must agree with.
    static func parseTree(_ bytes: [UInt8]) throws(Rejection) -> SecuritySignal {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw Rejection("invalid_json", "the signal is not valid JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else {
            throw Rejection("invalid_signal", "the signal must be a JSON object")
        }
        // The enricher adds `baseline`: one that arrives with the signal would stand beside ours
        // (and first), and a reader taking the first member would trust the sender's verdict.
        guard root["baseline"] == nil else {
            throw Rejection("reserved_member", "the signal already has a top-level `baseline` member, which Baseline adds itself")
        }
        let evt = root["evt"] as? [String: Any]
        guard let eventName = evt?["name"] as? String, !eventName.isEmpty else {
            throw Rejection("missing_event_type", "the signal has no evt.name")
        }
        let agent = root["agent"] as? [String: Any]
        let process = root["process"] as? [String: Any]
        let executable = process?["executable"] as? [String: Any]
        var ancestors: [SignalProcess] = []
        var ancestry = SignalAncestry.none
        var incomplete = LenientJSON.bool(process?["truncated_ancestors"])
        if let list = process?["ancestors"] as? [Any] {
            ancestry = .ancestors
            for item in list {
                guard let object = item as? [String: Any], let p = signalProcess(object) else {
                    incomplete = true
                    continue
                }
                ancestors.append(p)
            }
        } else if let parentObject = process?["parent"] as? [String: Any] {
            ancestry = .parentOnly
            if let parent = signalProcess(parentObject) { ancestors = [parent] } else { incomplete = true }
        }
        let file = root["file"] as? [String: Any]
        let question = (root["dns"] as? [String: Any])?["question"] as? [String: Any]
        let bind = root["bind"] as? [String: Any]
        let addr = bind?["addr"] as? [String: Any]
        let container = root["container"] as? [String: Any]
        var tags = (root["tags"] as? [Any])?.compactMap { $0 as? String } ?? []
        if let profileTags = (root["security_profile"] as? [String: Any])?["tags"] as? [Any] {
            tags += profileTags.compactMap { $0 as? String }
        }
        let containerID = nonEmpty(container?["id"] as? String) ?? containerID(of: process)
        var signal = SecuritySignal(
            ruleID: agent?["rule_id"] as? String,
            eventName: eventName,
            processPath: executable?["path"] as? String,
            pid: LenientJSON.int64(process?["pid"]),
            argv0: process?["argv0"] as? String,
            args: LenientJSON.strings(process?["args"]),
            ancestors: ancestors,
            ancestry: ancestry,
            filePath: file?["path"] as? String,
            dnsName: question?["name"] as? String,
            dnsType: LenientJSON.string(question?["type"]),
            bindIP: addr?["ip"] as? String,
            bindPort: LenientJSON.int64(addr?["port"]).flatMap { Int(exactly: $0) },
            bindFamily: addr?["family"] as? String,
            bindProtocol: LenientJSON.string(bind?["protocol"]) ?? LenientJSON.string(addr?["protocol"]),
            containerID: containerID,
            workload: WorkloadTags.workload(from: tags, containerID: containerID))
        signal.id = LenientJSON.string(root["id"])
        signal.ancestorsIncomplete = incomplete
        signal.fileFlags = LenientJSON.int64(file?["flags"]).map { UInt32(truncatingIfNeeded: $0) }
        signal.hasImageTag = WorkloadTags.values(tags)["image_tag"] != nil
        signal.containerCreatedAt = Timestamps.nanoseconds(container?["created_at"])
        signal.date = Timestamps.nanoseconds(root["date"])
        try signal.checkStrings()
        return signal
    }

    /// Rejects a signal whose fields carry NUL (`invalid_string`): PostgreSQL's text cannot store
    /// it (suggestions and suppressions keep the signal's paths and names), so it stops at the edge.
    func checkStrings() throws(Rejection) {
        func str(_ s: String?, _ what: @autoclosure () -> String) throws(Rejection) {
            if let s, s.utf8.contains(0) { throw Rejection("invalid_string", "\(what()) contains a NUL character") }
        }
        func process(_ p: SignalProcess, _ what: String) throws(Rejection) {
            try str(p.path, "the path of \(what)")
            try str(p.argv0, "the argv0 of \(what)")
            for a in p.args { try str(a, "an argument of \(what)") }
            try str(p.containerID, "the container id of \(what)")
        }
        try str(id, "id")
        try str(ruleID, "agent.rule_id")
        try str(eventName, "evt.name")
        try str(processPath, "process.executable.path")
        try str(argv0, "process.argv0")
        for a in args { try str(a, "an argument of the process") }
        for a in ancestors { try process(a, "an ancestor") }
        try str(filePath, "file.path")
        try str(dnsName, "dns.question.name")
        try str(dnsType, "dns.question.type")
        try str(bindIP, "bind.addr.ip")
        try str(bindFamily, "bind.addr.family")
        try str(bindProtocol, "bind.protocol")
        try str(containerID, "the container id")
        if let w = workload {
            for (value, tag) in [(w.imageName, "image_name"), (w.imageTag, "image_tag"), (w.service, "service"),
                                 (w.containerID, "container_id"), (w.host, "host"), (w.cluster, "cluster"),
                                 (w.namespace, "namespace")] {
                try str(value, "the \(tag) tag")
            }
        }
    }

    static func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

    static func containerID(of process: [String: Any]?) -> String? {
        nonEmpty((process?["container"] as? [String: Any])?["id"] as? String)
    }

    static func signalProcess(_ p: [String: Any]) -> SignalProcess? {
        guard let path = (p["executable"] as? [String: Any])?["path"] as? String ?? (p["file"] as? [String: Any])?["path"] as? String,
              !path.isEmpty else { return nil }
        return SignalProcess(path: path, argv0: p["argv0"] as? String, args: LenientJSON.strings(p["args"]),
                             pid: LenientJSON.int64(p["pid"]), containerID: containerID(of: p))
    }

    /// The signal's bytes unchanged, with `"baseline": {…}` appended as the last member of the
    /// top-level object (no re-serialisation: the original stays byte-for-byte intact).
    public static func appendingBaseline(_ context: BaselineContext, to original: [UInt8]) throws -> [UInt8] {
        guard let close = original.lastIndex(of: UInt8(ascii: "}")) else {
            throw Rejection("invalid_signal", "the signal must be a JSON object")
        }
        var out: [UInt8] = []
        out.reserveCapacity(original.count + 1024)
        out.append(contentsOf: original[..<close])
        // A comma separates the new member from the last one, unless the object is empty (`{}`) or
        // already ends in one: Foundation's parser accepts a trailing comma (`{"a":1,}`), and a
        // second would make the enriched signal invalid JSON (found by fuzz-signal).
        let last = out.last { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        let needsComma = last != nil && last != UInt8(ascii: "{") && last != UInt8(ascii: ",")
        out.append(contentsOf: Array((needsComma ? ",\"baseline\":" : "\"baseline\":").utf8))
        if !BaselineContextWriter.write(context, into: &out) {
            // A double that is not finite: the encoder's error, as before the writer.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            out.append(contentsOf: try encoder.encode(context))
        }
        out.append(contentsOf: original[close...])
        return out
    }
}

/// Workload identity from `key:value` tags.
public enum WorkloadTags {
    public static func values(_ tags: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for tag in tags {
            guard let colon = tag.firstIndex(of: ":") else { continue }
            let key = trimmingSpaces(tag[..<colon]).lowercased()
            let value = trimmingSpaces(tag[tag.index(after: colon)...])
            if !key.isEmpty && !value.isEmpty && result[key] == nil { result[key] = value }
        }
        return result
    }

    /// `trimmingCharacters(in: .whitespaces)` without Foundation's bridging for ASCII tags (every
    /// signal's tags pass here): in ASCII that set is space and tab. Other text keeps Foundation's
    /// own definition.
    static func trimmingSpaces(_ s: Substring) -> String {
        let utf8 = s.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return String(s).trimmingCharacters(in: .whitespaces) }
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(s[first...last])
    }

    /// A workload when the tags name an image (or at least a service); nil otherwise.
    public static func workload(from tags: [String], containerID: String? = nil) -> Workload? {
        workload(values: values(tags), containerID: containerID)
    }

    /// The same from the tags' `values`, when the caller has them already.
    static func workload(values v: [String: String], containerID: String?) -> Workload? {
        guard let image = v["image_name"] ?? v["short_image"] ?? v["service"] else { return nil }
        return Workload(imageName: image, imageTag: v["image_tag"] ?? "latest", service: v["service"],
                        containerID: containerID ?? v["container_id"], host: v["host"],
                        cluster: v["cluster_name"] ?? v["kube_cluster_name"], namespace: v["kube_namespace"] ?? v["namespace"])
    }
}
