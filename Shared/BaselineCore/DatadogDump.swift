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
            processes: J.objects(root["tree"]).map(process))
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
            let family = J.string(s["family"]) ?? "AF_INET"
            for b in J.objects(s["bind"]) {
                binds.append(SocketBind(family: family, ip: J.string(b["ip"]) ?? "0.0.0.0", port: Int(J.int64(b["port"]) ?? 0),
                                        protocol: protocolName(b["protocol"])))
            }
        }
        var syscalls = J.array(node["syscalls"]).compactMap { J.int64($0).map { "syscall_\($0)" } ?? J.string($0) }
        for s in J.objects(node["syscall_nodes"]) {
            if let name = J.string(s["syscall_name"]) ?? J.int64(s["syscall"]).map({ "syscall_\($0)" }) { syscalls.append(name) }
        }
        let capabilities = J.objects(node["capability_nodes"]).compactMap { J.string($0["capability"]) }
        let path = nonEmpty(J.string(file["path"])) ?? nonEmpty(J.string(info["comm"])).map { "comm:" + $0 } ?? "unknown"
        return ProcessNode(
            path: path, argv0: nonEmpty(J.string(info["argv0"])), args: J.strings(info["args"]),
            comm: nonEmpty(J.string(info["comm"])), pid: J.int64(info["pid"]), isExecChild: J.bool(info["is_exec_child"]),
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

    static func dnsType(_ v: Any?) -> String {
        if let n = J.int64(v) { return DNSTypes.name(Int(n)) }
        return J.string(v) ?? "A"
    }

    static func protocolName(_ v: Any?) -> String {
        if let n = J.int64(v) { return n == 17 ? "udp" : n == 6 || n == 0 ? "tcp" : "proto_\(n)" }
        return J.string(v)?.lowercased() ?? "tcp"
    }

    /// Nanoseconds from a number, a numeric string or an RFC 3339 string.
    static func timestamp(_ v: Any?) -> Int64? {
        if let n = J.int64(v), n > 0 { return n }
        if let s = J.string(v), let d = ISO8601DateFormatter.withFractions.date(from: s) ?? ISO8601DateFormatter().date(from: s) {
            return Int64(d.timeIntervalSince1970 * 1e9)
        }
        return nil
    }

    static func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}

/// DNS query type numbers to names.
enum DNSTypes {
    static let names: [Int: String] = [1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
                                       33: "SRV", 64: "SVCB", 65: "HTTPS", 255: "ANY"]
    static func name(_ n: Int) -> String { names[n] ?? "TYPE\(n)" }
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
