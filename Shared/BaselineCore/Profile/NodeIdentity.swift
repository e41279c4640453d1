/// The one place where a process or an activity becomes part of a node key. Dumps (at merge) and
/// signals (at match) both go through these functions, so the same behaviour always yields the
/// same key: a divergence here is a hole an attacker can walk through.
public enum NodeIdentity {
    /// A process's identity within a lineage: its executable path, the applet for multi-call
    /// binaries (`/bin/busybox[wget]`), and its arguments when the profile differentiates them.
    /// Every part is escaped, so distinct processes never share an identity and no identity
    /// contains the key separators.
    public static func process(path: String, argv0: String?, args: [String], differentiateArgs: Bool) -> String {
        var id = escaped(path)
        if MultiCallBinaries.isMultiCall(path) { id += "[\(escaped(applet(argv0: argv0, args: args)))]" }
        if differentiateArgs && !args.isEmpty { id += " " + args.map { $0.isEmpty ? "\"\"" : escaped($0) }.joined(separator: " ") }
        return id
    }

    /// Percent-encodes, per Unicode scalar, what could make two identities collide or forge a
    /// separator: `%`, `>`, `|`, `[`, `]`, `"`, `\`, spaces and control characters.
    static func escaped(_ s: String) -> String {
        // Fast path: plain ASCII without anything to escape (almost every path) is returned as is.
        var plain = true
        for b in s.utf8 {
            switch b {
            case 0x25, 0x3E, 0x7C, 0x5B, 0x5D, 0x22, 0x5C, 0x7F, 0x80..., ..<0x21: plain = false
            default: continue
            }
            break
        }
        if plain { return s }
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if needsEscape(u) {
                for b in String(u).utf8 { out.append(contentsOf: "%\(hex(b))".unicodeScalars) }
            } else {
                out.append(u)
            }
        }
        return String(out)
    }

    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case "%", ">", "|", "[", "]", "\"", "\\", " ": return true
        default: return u.value < 0x20 || u.value == 0x7F || u.properties.isWhitespace
        }
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    /// The applet a multi-call binary runs, as the binary itself picks it: argv0's basename
    /// (`/bin/sh`, `sh` and `-sh` are `sh`), or, when argv0 names the binary itself
    /// (`busybox wget …`, `coreutils --coreutils-prog=ls`), its first argument.
    static func applet(argv0: String?, args: [String]) -> String {
        var name = baseArgv0(argv0 ?? "")
        if name.hasPrefix("-") { name.removeFirst() }
        if name.hasPrefix("busybox") || name.hasPrefix("toybox") {
            // args[0] is argv0 itself in agents that report the full argv; skip it when so.
            let rest = args.first.map(baseArgv0) == baseArgv0(argv0 ?? "") ? Array(args.dropFirst()) : args
            if let next = rest.first, !next.hasPrefix("-") { return baseArgv0(next) }
            return name
        }
        if name == "coreutils", let prog = args.first(where: { $0.hasPrefix("--coreutils-prog=") }) {
            return String(prog.dropFirst("--coreutils-prog=".count))
        }
        return name
    }

    /// argv0 as the applet name: `/bin/sh` and `sh` select the same busybox applet.
    static func baseArgv0(_ argv0: String) -> String {
        argv0.split(separator: "/").last.map(String.init) ?? argv0
    }

    /// Whether a child is the same process identity as its parent (a worker that forks itself
    /// adds no lineage): same path, same applet, and same arguments when they are identity.
    public static func sameProgram(_ a: (path: String, argv0: String?, args: [String]), _ b: (path: String, argv0: String?, args: [String]),
                                   differentiateArgs: Bool) -> Bool {
        // By bytes: a look-alike child is another program (ExactString.swift), never folded into its parent.
        process(path: a.path, argv0: a.argv0, args: a.args, differentiateArgs: differentiateArgs)
            .bytesEqual(process(path: b.path, argv0: b.argv0, args: b.args, differentiateArgs: differentiateArgs))
    }

    /// `name TYPE`: names lower-cased, query types by name whether they came as `1`, `a` or `A`.
    public static func dns(name: String, type: String) -> String {
        asciiLowercased(escaped(name)) + " " + dnsType(type)
    }

    /// Only A–Z fold: Unicode case folding would make `\u{212A}afka.svc` (Kelvin sign) equal `kafka.svc`.
    static func asciiLowercased(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 }))
    }

    public static func dnsType(_ raw: String) -> String {
        let t = raw.trimmingASCIISpaces()
        if t.isEmpty { return "A" }
        if let n = Int(t) { return DNSTypes.name(n) }
        return escaped(t).uppercased()
    }

    /// `AF_INET 0.0.0.0:80/tcp`: protocols by name whether they came as `6`, `TCP` or `tcp`.
    public static func bind(family: String, ip: String, port: Int, protocol raw: String) -> String {
        "\(family.isEmpty ? "AF_INET" : escaped(family).uppercased()) \(ip.isEmpty ? "0.0.0.0" : escaped(ip)):\(port)/\(bindProtocol(raw))"
    }

    public static func bindProtocol(_ raw: String) -> String {
        let p = raw.trimmingASCIISpaces().lowercased()
        if p.isEmpty { return "tcp" }
        if let n = Int(p) { return n == 17 ? "udp" : n == 6 ? "tcp" : n == 132 ? "sctp" : "proto_\(n)" }
        // A name is letters, digits and `_` only: anything else (`a:b/c`) could break parsing downstream.
        return p.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) ? p
            : "proto_" + p.utf8.map { b in (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) ? String(UnicodeScalar(b)) : "%" + hex(b) }.joined()
    }

    public static func capability(_ name: String) -> String { escaped(name).uppercased() }
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
