/// The one place where a process or an activity becomes part of a node key. Dumps (at merge) and
/// signals (at match) both go through these functions, so the same behaviour always yields the
/// same key: a divergence here is a hole an attacker can walk through.
public enum NodeIdentity {
    /// A process's identity within a lineage: its executable path, argv0 for multi-call binaries
    /// (`/bin/busybox[wget]`), and its arguments when the profile differentiates them.
    public static func process(path: String, argv0: String?, args: [String], differentiateArgs: Bool) -> String {
        var id = escaped(path)
        if MultiCallBinaries.isMultiCall(path) { id += "[\(escaped(argv0.map(baseArgv0) ?? ""))]" }
        if differentiateArgs && !args.isEmpty { id += " " + args.map(quotedArgument).joined(separator: " ") }
        return id
    }

    /// Separators of node keys (` > `, ` | `) and the escape character itself, percent-encoded.
    static func escaped(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "[") }) else { return s }
        var out = ""
        for ch in s {
            switch ch {
            case "%": out += "%25"
            case ">": out += "%3E"
            case "|": out += "%7C"
            case "[": out += "%5B"
            default: out.append(ch)
            }
        }
        return out
    }

    /// An argument as one word: quoted when it holds spaces, quotes or separators, so `a b` and
    /// `"a b"` stay different processes.
    static func quotedArgument(_ a: String) -> String {
        let e = escaped(a)
        guard e.isEmpty || e.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" }) else { return e }
        return "\"" + e.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// argv0 as the applet name: `/bin/sh` and `sh` select the same busybox applet.
    static func baseArgv0(_ argv0: String) -> String {
        argv0.split(separator: "/").last.map(String.init) ?? argv0
    }

    /// Whether two consecutive processes of a lineage are the same program (a worker that forks
    /// itself adds no lineage): same path and, for multi-call binaries, same applet.
    public static func sameProgram(_ a: (path: String, argv0: String?), _ b: (path: String, argv0: String?)) -> Bool {
        a.path == b.path && (!MultiCallBinaries.isMultiCall(a.path) || a.argv0.map(baseArgv0) == b.argv0.map(baseArgv0))
    }

    /// `name TYPE`: names lower-cased, query types by name whether they came as `1`, `a` or `A`.
    public static func dns(name: String, type: String) -> String {
        name.lowercased() + " " + dnsType(type)
    }

    public static func dnsType(_ raw: String) -> String {
        let t = raw.trimmingASCIISpaces()
        if t.isEmpty { return "A" }
        if let n = Int(t) { return DNSTypes.name(n) }
        return t.uppercased()
    }

    /// `AF_INET 0.0.0.0:80/tcp`: protocols by name whether they came as `6`, `TCP` or `tcp`.
    public static func bind(family: String, ip: String, port: Int, protocol raw: String) -> String {
        "\(family.isEmpty ? "AF_INET" : family.uppercased()) \(ip.isEmpty ? "0.0.0.0" : ip):\(port)/\(bindProtocol(raw))"
    }

    public static func bindProtocol(_ raw: String) -> String {
        let p = raw.trimmingASCIISpaces().lowercased()
        if p.isEmpty { return "tcp" }
        if let n = Int(p) { return n == 17 ? "udp" : n == 6 ? "tcp" : n == 132 ? "sctp" : "proto_\(n)" }
        return p
    }

    public static func capability(_ name: String) -> String { name.uppercased() }
}

/// The container runtimes that start a workload but are not part of it (never a lineage root).
public enum ContainerRuntimes {
    public static let binaries: Set<String> = [
        "runc", "crun", "containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2", "conmon",
        "docker-containerd-shim", "runsc", "runsc-sandbox", "containerd", "dockerd",
    ]

    public static func isRuntime(_ path: String) -> Bool {
        binaries.contains(path.split(separator: "/").last.map(String.init) ?? path)
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
