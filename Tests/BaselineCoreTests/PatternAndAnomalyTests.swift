import BaselineCore
import Testing

@Suite struct PatternAndAnomalyTests {
    func dump(_ instance: String, files: [String] = [], children: [String] = []) -> ActivityDump {
        ActivityDump(workload: Workload(imageName: "app", imageTag: "1", containerID: instance), processes: [
            ProcessNode(path: "/app", files: files.map { FileAccess(path: $0) }, children: children.map { ProcessNode(path: $0) }),
        ])
    }

    @Test(arguments: [
        ("sess-8f3a", "sess-*"), ("2024-01-03.log", "*-*-*.log"), ("12345", "*"), ("nginx.conf", "nginx.conf"),
        ("passwd", "passwd"), ("upload-1f3a.part", "upload-*.part"), ("python3.11", "*.*"),
    ])
    func skeletons(_ name: String, _ skeleton: String) {
        #expect(PatternMiner.skeleton(of: name) == skeleton)
    }

    @Test func ephemeralSiblingsCollapseIntoAPattern() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1", miner: PatternMiner(threshold: 3))
        v.merge(dump("c1", files: ["/tmp/sess-aa1", "/etc/passwd", "/etc/group", "/etc/hosts"]), at: 1)
        v.merge(dump("c2", files: ["/tmp/sess-bb2"]), at: 2)
        #expect(v.nodes.keys.filter { $0.type == .file }.count == 5)
        let outcome = v.merge(dump("c3", files: ["/tmp/sess-cc3"]), at: 3)
        let pattern = ProfileNodeKey.file(lineage: ["/app"], path: "/tmp/sess-*")
        #expect(outcome.learned == [pattern])
        #expect(outcome.removed.count == 3)
        #expect(v.nodes[pattern]?.instances.count == 3)
        #expect(v.commonality(of: pattern) == 1)
        // Alphabetic siblings stay literal.
        #expect(v.nodes[.file(lineage: ["/app"], path: "/etc/passwd")] != nil)
        // Later names of the same shape land on the pattern: nothing new is learned.
        let later = v.merge(dump("c4", files: ["/tmp/sess-dd4"]), at: 4)
        #expect(later.learned.isEmpty && later.touched.contains(pattern))
        #expect(v.nodes[pattern]?.instances.count == 4)
        // Counters stay consistent with a recount after the collapse.
        let files = v.nodes.filter { $0.key.type == .file }
        #expect(v.coverage(.file).q1 == files.values.filter { $0.dumps == 1 }.count)
        #expect(v.coverage(.file).incidences == files.values.map(\.dumps).reduce(0, +))
        #expect(v.coverage(.file).nodes == files.count)
    }

    /// Attack shape: accepting one anomalous file must not fold its siblings into a wildcard
    /// pattern, which would let any digit-bearing sibling (`sess-99`, a dropped payload) match.
    @Test func acceptingAnAnomalyNeverMinesAPattern() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1", miner: PatternMiner(threshold: 3))
        v.merge(dump("c1", files: ["/tmp/sess-aa1"]), at: 1)
        v.merge(dump("c2", files: ["/tmp/sess-bb2"]), at: 2)
        let o = v.merge(dump("c3", files: ["/tmp/sess-cc3"]), at: 3, frozen: [.file])
        #expect(o.anomalies == [.file(lineage: ["/app"], path: "/tmp/sess-cc3")])
        let accepted = v.accept(.file(lineage: ["/app"], path: "/tmp/sess-cc3"), instance: o.instance, at: 4)
        #expect(accepted.learned == [.file(lineage: ["/app"], path: "/tmp/sess-cc3")] && accepted.removed.isEmpty)
        #expect(v.nodes.keys.allSatisfy { !$0.value.contains("*") })
        #expect(v.nodes[.file(lineage: ["/app"], path: "/tmp/sess-dd4")] == nil)
        #expect(v.generalised(.file(lineage: ["/app"], path: "/tmp/sess-dd4")) == .file(lineage: ["/app"], path: "/tmp/sess-dd4"))
    }

    @Test func frozenTypesReportAnomaliesUnlessWarmingUp() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        v.merge(dump("c1", children: ["/bin/sh"]), at: 1)
        let stable: Set<EventType> = [.exec]
        let o = v.merge(dump("c2", files: ["/etc/new"], children: ["/bin/sh", "/usr/bin/nc"]), at: 2, frozen: stable)
        #expect(o.anomalies == [.process(lineage: ["/app", "/usr/bin/nc"])])
        #expect(o.learned == [.file(lineage: ["/app"], path: "/etc/new")])  // file is still learning
        #expect(v.nodes[.process(lineage: ["/app", "/usr/bin/nc"])] == nil)
        #expect(v.nodes[.process(lineage: ["/app", "/bin/sh"])]?.instances.count == 2)  // known nodes still counted

        // Warm-up spares the anomaly, but a stable type never learns from it.
        let warm = v.merge(dump("c3", children: ["/usr/bin/curl"]), at: 3, frozen: stable, warmingUp: true)
        #expect(warm.anomalies.isEmpty && warm.learned.isEmpty && warm.warmUpIgnored == [.process(lineage: ["/app", "/usr/bin/curl"])])
        #expect(v.nodes[.process(lineage: ["/app", "/usr/bin/curl"])] == nil)

        let accepted = v.accept(.process(lineage: ["/app", "/usr/bin/nc"]), instance: o.instance, at: 5)
        #expect(accepted.learned.count == 1 && v.nodes[.process(lineage: ["/app", "/usr/bin/nc"])] != nil)
    }

    @Test func restoringFromStoredStateRebuildsTheCounters() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1", miner: PatternMiner(threshold: 2))
        for i in 0..<6 { v.merge(dump("c\(i % 3)", files: ["/tmp/f-\(i)1", "/etc/x\(i % 2 == 0 ? "" : "y")"]), at: Int64(i)) }
        let restored = ProfileVersion(profileKey: "app", imageTag: "1", dumps: v.dumps, instances: v.instanceList, nodes: v.nodes,
                                      miner: PatternMiner(threshold: 2))
        for t in EventType.allCases { #expect(restored.coverage(t) == v.coverage(t)) }
        #expect(restored.patterns == v.patterns)
        #expect(restored.profileCommonality() == v.profileCommonality())
        var a = v, b = restored
        let next = dump("c9", files: ["/tmp/f-99", "/etc/z"])
        #expect(a.merge(next, at: 10) == b.merge(next, at: 10))
    }
}

@Suite struct NodeKindsTests {
    @Test func openFlagsAreOredAcrossDumpsAndSyscallsAndCapabilitiesAreNodes() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        func dump(_ flags: UInt32, _ mode: UInt32) -> ActivityDump {
            ActivityDump(workload: Workload(imageName: "app", containerID: "c"), processes: [
                ProcessNode(path: "/app", files: [FileAccess(path: "/data/db", flags: flags, mode: mode)],
                            syscalls: ["openat", "read"], capabilities: ["cap_net_bind_service"]),
            ])
        }
        v.merge(dump(0o1, 0o600), at: 1)
        v.merge(dump(0o100, 0o044), at: 2)
        let db = ProfileNodeKey.file(lineage: ["/app"], path: "/data/db")
        #expect(v.nodes[db]?.open == FileOpenBits(flags: 0o101, mode: 0o644))
        #expect(v.nodes[.syscall(lineage: ["/app"], "read")]?.dumps == 2)
        #expect(v.nodes[.capability(lineage: ["/app"], "CAP_NET_BIND_SERVICE")] != nil)
        #expect(v.coverage(.syscall).nodes == 2 && v.coverage(.capability).nodes == 1)
    }
}

@Suite struct StringSplittingTests {
    @Test func nodeKeyPartsSplitOnTheSeparators() {
        let key = ProfileNodeKey.file(lineage: ["/init", "/usr/bin/a b", "/x"], path: "/tmp/a | b")
        let (lineage, activity) = key.parts
        #expect(lineage == ["/init", "/usr/bin/a b", "/x"])
        #expect(activity == "/tmp/a | b")
        #expect(ProfileNodeKey.process(lineage: ["/only"]).parts.lineage == ["/only"])
        #expect(ProfileNodeKey.process(lineage: ["/only"]).parts.activity == nil)
    }
}
