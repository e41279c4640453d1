import Foundation

/// Converts Datadog's activity dump (`SecDump`, protobuf JSON mapping) to Baseline's model.
/// Reference: DataDog/agent-payload `proto/cws/dumpsv1/activity_dump.proto`.
enum DatadogDump {
    typealias J = LenientJSON

    static func convert(_ root: [String: Any]) throws(Rejection) -> ActivityDump {
        let metadata = J.object(root["metadata"]) ?? [:]
        let tags = J.strings(root["tags"])
        let tagValues = WorkloadTags.values(tags)
        let containerID = nonEmpty(J.string(metadata["container_id"])) ?? tagValues["container_id"]
        let service = nonEmpty(J.string(root["service"])) ?? tagValues["service"]
        let workload = try DumpWorkload.resolve(
            imageName: tagValues["image_name"] ?? tagValues["short_image"], imageTag: tagValues["image_tag"], service: service,
            containerID: containerID, host: nonEmpty(J.string(root["host"])) ?? tagValues["host"],
            cluster: tagValues["cluster_name"] ?? tagValues["kube_cluster_name"],
            namespace: tagValues["kube_namespace"] ?? tagValues["namespace"])
        return ActivityDump(
            id: nonEmpty(J.string(metadata["name"])),
            workload: workload,
            start: timestamp(metadata["start"]),
            end: timestamp(metadata["end"]),
            differentiateArgs: J.bool(metadata["differentiate_args"]),
            processes: J.objects(root["tree"]).map(process),
            isSnapshot: GenerationType.isSnapshot(J.objects(root["tree"])))
    }

    static func process(_ node: [String: Any]) -> ProcessNode {
        let info = J.object(node["process"]) ?? [:]
        let file = J.object(info["file"]) ?? [:]
        var files: [FileAccess] = []
        for f in J.objects(node["files"]) { collectFiles(f, prefix: "", into: &files) }
        var dns: [DNSRequest] = []
        for d in J.objects(node["dns_names"]) {
            for r in J.objects(d["requests"]) {
                if let name = nonEmpty(J.string(r["name"])) { dns.append(DNSRequest(name: name, type: dnsType(r["type"]))) }
            }
        }
        var binds: [SocketBind] = []
        for s in J.objects(node["sockets"]) {
            let family = nonEmpty(J.string(s["family"])) ?? "AF_INET"
            for b in J.objects(s["bind"]) {
                binds.append(SocketBind(family: family, ip: nonEmpty(J.string(b["ip"])) ?? (family == "AF_INET6" ? "::" : "0.0.0.0"),
                                        port: Int(J.int64(b["port"]) ?? 0), protocol: protocolName(b["protocol"])))
            }
        }
        var syscalls = J.array(node["syscalls"]).compactMap(syscallName)
        // proto3 leaves a zero out of the binary form (and JSON may write null): a syscall node
        // without `syscall` is syscall 0, a capability node without `capability` is CAP_CHOWN (0).
        for s in J.objects(node["syscall_nodes"]) {
            if let name = syscallName(J.scalar(s["syscall"]) ?? 0) { syscalls.append(name) }
        }
        // Every capability the process used or tried (is_capable false: the check failed) is activity.
        let capabilities = J.objects(node["capability_nodes"]).compactMap { capabilityName(J.scalar($0["capability"]) ?? 0) }
        let path = nonEmpty(J.string(file["path"])) ?? nonEmpty(J.string(info["comm"])).map { "comm:" + $0 } ?? "unknown"
        return ProcessNode(
            path: path, argv0: nonEmpty(J.string(info["argv0"])), args: J.strings(info["args"]),
            comm: nonEmpty(J.string(info["comm"])), pid: nonZero(J.int64(info["pid"])), isExecChild: J.bool(info["is_exec_child"]),
            files: files, dns: dns, binds: binds, syscalls: syscalls, capabilities: capabilities,
            children: J.objects(node["children"]).map(process))
    }

    /// File nodes form a tree of path components; leaves carry the full path in `file.path`.
    static func collectFiles(_ node: [String: Any], prefix: String, into files: inout [FileAccess]) {
        let name = J.string(node["name"]) ?? ""
        let path = prefix.isEmpty ? (name.hasPrefix("/") ? name : "/" + name) : prefix + "/" + name
        let children = J.objects(node["children"])
        let open = J.object(node["open"])
        if children.isEmpty || open != nil || J.object(node["file"]).flatMap({ J.string($0["path"]) }) != nil {
            let full = nonEmpty(J.object(node["file"]).flatMap { J.string($0["path"]) }) ?? path
            if children.isEmpty || open != nil {
                files.append(FileAccess(path: full, flags: UInt32(truncatingIfNeeded: J.int64(open?["flags"]) ?? 0),
                                        mode: UInt32(truncatingIfNeeded: J.int64(open?["mode"]) ?? 0)))
            }
        }
        for c in children { collectFiles(c, prefix: path, into: &files) }
    }

    /// `DNSInfo.type` (uint32, the query type number; names are accepted too). 0 is what the binary
    /// form means when the field is absent; it and an absent type read as `A`.
    static func dnsType(_ v: Any?) -> String {
        if let n = J.int64(v) { return n == 0 ? "A" : DNSTypes.name(Int(n)) }
        return nonEmpty(J.string(v))?.uppercased() ?? "A"
    }

    /// `BindNode.protocol` (uint32, an IPPROTO_* number; names such as `udp`, `UDP` or
    /// `IPPROTO_UDP` are accepted too). 0 (absent, or an agent that does not record it) reads as tcp.
    static func protocolName(_ v: Any?) -> String {
        if let n = J.int64(v) { return n == 0 ? "tcp" : IPProtocols.names[Int(n)] ?? "proto_\(n)" }
        guard var name = nonEmpty(J.string(v))?.lowercased() else { return "tcp" }
        if name.hasPrefix("ipproto_") { name.removeFirst("ipproto_".count) }
        return name == "ip" ? "tcp" : name
    }

    /// A syscall number (`syscall_<n>`, the same for both encodings), or a name as given.
    static func syscallName(_ v: Any) -> String? {
        if let n = J.int64(v) { return "syscall_\(n)" }
        return nonEmpty(J.string(v))
    }

    /// `CapabilityNode.capability` (uint64: a JSON string in the protobuf JSON mapping, a varint in
    /// binary) as its Linux name (`CAP_NET_BIND_SERVICE`, as in Baseline's own format); a name is
    /// accepted in either case.
    static func capabilityName(_ v: Any) -> String? {
        if let n = J.int64(v) { return LinuxCapabilities.name(n) }
        return nonEmpty(J.string(v))?.uppercased()
    }

    /// Nanoseconds from a number, a numeric string or an RFC 3339 string. A date that does not fit
    /// an Int64 of nanoseconds (past 2262, before 1677) reads as absent, never traps.
    static func timestamp(_ v: Any?) -> Int64? {
        if let n = J.int64(v), n > 0 { return n }
        return J.string(v).flatMap(Timestamps.rfc3339)
    }

    static func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

    /// proto3 cannot tell a zero from an absent field: both read as absent.
    static func nonZero(_ n: Int64?) -> Int64? { n.flatMap { $0 == 0 ? nil : $0 } }
}

/// IP protocol numbers (`BindNode.protocol`) to names.
enum IPProtocols {
    static let names: [Int: String] = [1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp", 136: "udplite"]
}

/// Linux capability numbers (`CapabilityNode.capability`, linux/capability.h) to names.
enum LinuxCapabilities {
    static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]
    static func name(_ n: Int64) -> String { n >= 0 && n < names.count ? names[Int(n)] : "CAP_\(UInt64(bitPattern: n))" }
}

/// DNS query type numbers to names.
public enum DNSTypes {
    static let names: [Int: String] = [1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
                                       33: "SRV", 64: "SVCB", 65: "HTTPS", 255: "ANY"]
    static let numbers: [String: Int] = Dictionary(uniqueKeysWithValues: names.map { ($1, $0) })
    public static func name(_ n: Int) -> String { names[n] ?? "TYPE\(n)" }
    /// The number of a type name (`AAAA` → 28, `TYPE99` → 99).
    public static func number(_ name: String) -> Int? {
        if let n = numbers[name] { return n }
        if name.hasPrefix("TYPE") { return Int(name.dropFirst(4)) }
        return nil
    }
}

/// Workload identity rules shared by all formats.
enum DumpWorkload {
    static func resolve(imageName: String?, imageTag: String?, service: String?, containerID: String?, host: String?,
                        cluster: String?, namespace: String?) throws(Rejection) -> Workload {
        guard let profileKey = DatadogDump.nonEmpty(imageName) ?? DatadogDump.nonEmpty(service) else {
            throw Rejection("missing_workload", "the dump names no image (image_name tag) and no service: it cannot be assigned to a profile")
        }
        return Workload(imageName: profileKey, imageTag: DatadogDump.nonEmpty(imageTag) ?? "latest", service: service,
                        containerID: containerID, host: host, cluster: cluster, namespace: namespace)
    }
}
