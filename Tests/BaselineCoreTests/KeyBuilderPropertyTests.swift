import BaselineCore
import Foundation
import Testing

/// Property: for every node of generated dumps, a signal describing that node's activity (as an
/// agent would send it: raw paths, argv0 as a path, numeric DNS types and protocols, runtimes and
/// forked workers in the ancestry) matches exactly that node. Expected keys are spelled out here
/// independently of the production key builder.
@Suite struct KeyBuilderPropertyTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1000) < p * 1000 }
        mutating func pick<T>(_ a: [T]) -> T { a[int(a.count)] }
    }

    /// A process of the clean (normalised) tree, with what it did.
    struct Clean {
        var path: String
        var applet: String?
        var args: [String]
        var pid: Int64
        var files: [String]
        var dns: [(String, Int)]
        var binds: [(Int, Int)]
        var children: [Clean]
    }

    static let binaries = ["/bin/sh", "/usr/sbin/nginx", "/usr/bin/python3", "/bin/busybox", "/usr/bin/awk", "/app/bin/server"]
    static let dnsTypes = [1: "A", 28: "AAAA", 5: "CNAME", 16: "TXT"]

    static func generate(_ rng: inout Rng, depth: Int, nextPID: inout Int64, siblings: inout Set<String>) -> Clean? {
        let path = rng.pick(binaries)
        let applet = path == "/bin/busybox" ? rng.pick(["sh", "wget", "nc", "ls"]) : nil
        let args = rng.chance(0.5) ? [rng.pick(["-g", "--serve", "-c", "x"]), "\(rng.int(3))"] : []
        let identity = "\(path)|\(applet ?? "")|\(args.joined(separator: ","))"
        guard siblings.insert(identity).inserted else { return nil }  // identical siblings merge; keep them distinct here
        nextPID += 1
        let pid = nextPID
        var files = (0..<rng.int(3)).map { _ in rng.pick(["/etc/app.conf", "/var/lib/data/\(rng.int(50))", "/etc/passwd"]) }
        if rng.chance(0.4) { files.append("/proc/\(pid)/status") }
        let dns = (0..<rng.int(2)).map { _ in (rng.pick(["api.example.com", "db.internal", "Mixed.Case.ORG"]), rng.pick(Array(dnsTypes.keys))) }
        let binds = (0..<rng.int(2)).map { _ in (rng.pick([80, 443, 8080, 53]), rng.pick([6, 17])) }
        var children: [Clean] = []
        var childIdentities = Set<String>()
        if depth < 4 {
            for _ in 0..<rng.int(3) {
                if let c = generate(&rng, depth: depth + 1, nextPID: &nextPID, siblings: &childIdentities), !(c.path == path && c.applet == applet) {
                    children.append(c)
                }
            }
        }
        return Clean(path: path, applet: applet, args: args, pid: pid, files: Array(Set(files)).sorted(),
                     dns: dns, binds: binds, children: children)
    }

    /// The dump the agent would record: a runtime root above, a forked worker (same binary) below
    /// some processes, argv0 as a path, DNS types and protocols as numbers.
    static func raw(_ c: Clean, _ rng: inout Rng) -> ProcessNode {
        var node = ProcessNode(path: c.path, argv0: c.applet.map { rng.chance(0.5) ? "/bin/\($0)" : $0 }, args: c.args, pid: c.pid,
                               files: c.files.map { FileAccess(path: $0) },
                               dns: c.dns.map { DNSRequest(name: $0.0, type: rng.chance(0.5) ? String($0.1) : dnsTypes[$0.1]!) },
                               binds: c.binds.map { SocketBind(port: $0.0, protocol: $0.1 == 6 ? "tcp" : "17") },
                               children: c.children.map { raw($0, &rng) })
        if rng.chance(0.3) {
            // A worker forked from the same process (same argv), doing nothing new: collapsed into its parent.
            node.children.append(ProcessNode(path: c.path, argv0: c.applet, args: c.args, pid: c.pid + 10_000))
        }
        return node
    }

    /// Expected node keys, spelled out independently of `NodeIdentity`.
    static func expected(_ c: Clean, parent: [String], differentiateArgs: Bool, into out: inout [(SignalFixture.Proc, [SignalFixture.Proc], String, [String: Any], String)],
                         ancestors: [SignalFixture.Proc]) {
        var id = c.path
        if let applet = c.applet { id += "[\(applet)]" }
        if differentiateArgs && !c.args.isEmpty { id += " " + c.args.joined(separator: " ") }
        let lineage = parent + [id]
        let l = lineage.joined(separator: " > ")
        let me = SignalFixture.Proc(c.path, argv0: c.applet.map { "/bin/\($0)" }, args: c.args, pid: c.pid)
        out.append((me, ancestors, "exec", [:], "exec:" + l))
        for f in c.files {
            let reduced = f == "/proc/\(c.pid)/status" ? "/proc/self/status" : f
            out.append((me, ancestors, "open", SignalFixture.file(f), "file:\(l) | \(reduced)"))
        }
        for (name, type) in c.dns {
            out.append((me, ancestors, "dns", SignalFixture.dns(name.uppercased(), type: type), "dns:\(l) | \(name.lowercased()) \(dnsTypes[type]!)"))
        }
        for (port, proto) in c.binds {
            out.append((me, ancestors, "bind", SignalFixture.bind(port: port, protocol: proto),
                        "network:\(l) | AF_INET 0.0.0.0:\(port)/\(proto == 6 ? "tcp" : "udp")"))
        }
        // Signals of children carry forked copies of this process in their ancestry now and then.
        // A fork keeps its parent's argv.
        let forked = c.pid % 2 == 0 ? [SignalFixture.Proc(c.path, argv0: c.applet, args: c.args, pid: c.pid + 10_000), me] : [me]
        for child in c.children {
            expected(child, parent: lineage, differentiateArgs: differentiateArgs, into: &out, ancestors: forked + ancestors)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func everyNodeIsMatchedByTheSignalDescribingIt(seed: UInt64) throws {
        var rng = Rng(state: seed)
        let differentiateArgs = seed % 2 == 0
        var pid: Int64 = 1
        var roots = Set<String>()
        let clean = (0..<(1 + rng.int(2))).compactMap { _ in Self.generate(&rng, depth: 1, nextPID: &pid, siblings: &roots) }
        let dump = ActivityDump(workload: Workload(imageName: "app", imageTag: "1", containerID: "c0"), differentiateArgs: differentiateArgs,
                                processes: [ProcessNode(path: "/usr/bin/containerd-shim-runc-v2", children: clean.map { Self.raw($0, &rng) })])
        var version = ProfileVersion(profileKey: "app", imageTag: "1", miner: PatternMiner(threshold: .max))
        version.merge(DumpNormalizer().normalize(dump), at: 1)
        let matcher = ProfileMatcher(state: VersionState(version: version))

        var cases: [(SignalFixture.Proc, [SignalFixture.Proc], String, [String: Any], String)] = []
        for c in clean { Self.expected(c, parent: [], differentiateArgs: differentiateArgs, into: &cases, ancestors: []) }
        var matched = Set<ProfileNodeKey>()
        for (process, ancestors, event, extra, key) in cases {
            let signal = try SignalFixture.signal(event, process, ancestors: ancestors, image: "app", tag: "1", extra: extra)
            let activity = try #require(SignalActivity(signal: signal))
            let match = matcher.match(activity)
            #expect(match?.key.description == key, "seed \(seed): \(event) signal should match \(key)")
            #expect(match?.kind == .exact)
            if let m = match { matched.insert(m.key) }
        }
        let modelled = Set(version.nodes.keys.filter { [.exec, .file, .dns, .network].contains($0.type) })
        #expect(matched == modelled, "seed \(seed): every node is matched by its own signal, and nothing else is")
    }
}
