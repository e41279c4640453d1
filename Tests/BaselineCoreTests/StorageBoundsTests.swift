import BaselineCore
import Foundation
import Testing

/// Attack shapes against what the pipeline stores: node keys that would take gigabytes to build,
/// anomaly ids too long for an index, one workload spending another's anomaly budget, and merge
/// requests written straight to the internal topic.
@Suite struct StorageBoundsTests {
    func request(_ processes: [ProcessNode], differentiateArgs: Bool = false) -> MergeRequest {
        var dump = ActivityDump(id: "d1", workload: Workload(imageName: "app", containerID: "c1"), processes: processes)
        dump.differentiateArgs = differentiateArgs
        return MergeRequest(dumpID: "d1", sourceFormat: "baseline-json", receivedAt: 0, dump: dump)
    }

    /// A chain of `depth` processes with distinct paths of `pathBytes`, each with `files` short files.
    func chain(depth: Int, pathBytes: Int, files: Int) -> [ProcessNode] {
        var node: ProcessNode?
        for level in stride(from: depth, through: 1, by: -1) {
            let path = "/\(level)" + String(repeating: "p", count: max(0, pathBytes - 1 - "\(level)".count))
            node = ProcessNode(path: path, files: (0..<files).map { FileAccess(path: "/f\($0)") }, children: node.map { [$0] } ?? [])
        }
        return node.map { [$0] } ?? []
    }

    func rejection(_ body: () throws(Rejection) -> Void) -> Rejection? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    /// 64 levels of 4 096-byte paths with 3 000 files each: 192 000 nodes in about 2 MB, whose keys
    /// would take about 25 GB if built before being measured. The check stops at the first process
    /// over the limit and says how far it got (not the full length it never built).
    @Test func aDeepTreeOfLongPathsIsRejectedWithoutBuildingItsKeys() {
        let r = rejection { () throws(Rejection) in try StorageLimits().check(request(chain(depth: 64, pathBytes: 4_096, files: 3_000))) }
        #expect(r?.code == "node_key_too_long")
        #expect(r?.reason.contains("reach 4096 bytes at depth 1") == true)
        #expect((r?.reason.utf8.count ?? .max) < 600)
    }

    /// The lineage grows 103 bytes a level (100-byte paths and the separator): the walk stops at
    /// level 20, the first whose lineage is over 2 000 bytes, whatever lies below.
    @Test func theCheckStopsWhereTheLineageCrossesTheLimit() {
        let r = rejection { () throws(Rejection) in try StorageLimits().check(request(chain(depth: 64, pathBytes: 100, files: 2_000))) }
        #expect(r?.code == "node_key_too_long")
        #expect(r?.reason.contains("reach 2057 bytes at depth 20") == true)
        // Nineteen levels fit (1 954 bytes), and a file under the last one (1 954 + 3 + 3) too.
        #expect(rejection { () throws(Rejection) in try StorageLimits().check(request(chain(depth: 19, pathBytes: 100, files: 50))) } == nil)
    }

    /// The lengths the check adds up are the lengths of the keys the merge builds, for every kind of
    /// node: each dump passes with the limit at its longest key and fails one byte below.
    @Test func measuredLengthsEqualTheBuiltKeys() {
        let long = String(repeating: "é", count: 300)
        let dumps: [[ProcessNode]] = [
            [ProcessNode(path: "/bin/busybox", argv0: "wget", args: ["wget", "-O-", long])],
            [ProcessNode(path: "/app", children: [ProcessNode(path: "/bin/" + long + " x|y>z")])],
            [ProcessNode(path: "/app", files: [FileAccess(path: "/data/" + long)])],
            [ProcessNode(path: "/app", dns: [DNSRequest(name: "API." + long + ".Example", type: "28")])],
            [ProcessNode(path: "/app", binds: [SocketBind(family: "af_inet6", ip: "fe80::" + long, port: 8080, protocol: "17")])],
            [ProcessNode(path: "/app", syscalls: ["OPENAT2" + long.uppercased()])],
            [ProcessNode(path: "/app", capabilities: ["cap_" + long])],
        ]
        for processes in dumps {
            for differentiateArgs in [false, true] {
                let r = request(processes, differentiateArgs: differentiateArgs)
                let longest = ProfileNodeKey.nodes(of: r.dump).keys.map(\.value.utf8.count).max() ?? 0
                var limits = StorageLimits()
                limits.maxNodeKeyBytes = longest
                #expect(rejection { () throws(Rejection) in try limits.check(r) } == nil, "\(processes)")
                limits.maxNodeKeyBytes = longest - 1
                #expect(rejection { () throws(Rejection) in try limits.check(r) }?.code == "node_key_too_long", "\(processes)")
            }
        }
    }

    @Test func anomalyIDsAreBoundedStableAndDistinct() {
        let short = Anomaly(profileKey: "app", imageTag: "v1", node: .process(lineage: ["/app", "/bin/sh"]), dumpID: "d1", instanceID: "i", at: 1)
        #expect(short.id == "app|v1|exec:/app > /bin/sh|d1")  // ids within the bound are as before
        func long(_ tail: String) -> Anomaly {
            Anomaly(profileKey: String(repeating: "k", count: 256), imageTag: String(repeating: "t", count: 256),
                    node: .file(lineage: ["/app"], path: "/" + String(repeating: "é", count: 990) + tail),
                    dumpID: String(repeating: "d", count: 256), instanceID: "i", at: 1)
        }
        let a = long("a"), b = long("b")
        let natural = "\(a.profileKey)|\(a.imageTag)|\(a.node)|\(a.dumpID)"
        #expect(natural.utf8.count > 2_704)
        #expect(a.id.utf8.count > AnomalyID.maxNaturalBytes && a.id.utf8.count <= 1_000 + 8 + 64)
        #expect(a.id == long("a").id)  // stable across replays
        #expect(a.id != b.id)  // the differing end is in the hash
        // A readable start of the natural id, cut on a character boundary.
        let start = String(a.id[..<a.id.range(of: "|sha256:")!.lowerBound])
        #expect(natural.hasPrefix(start) && start.utf8.count >= 996)
    }

    /// Two workloads whose instances report the same id each have their own budget, and so do two
    /// versions of one image.
    @Test func anomalyBudgetsArePerWorkloadNotPerInstanceID() {
        var limiter = AnomalyRateLimiter(limit: 2, window: 60 * 1_000_000_000)
        func anomaly(_ image: String, tag: String = "v1", _ n: Int) -> Anomaly {
            Anomaly(profileKey: image, imageTag: tag, node: .process(lineage: ["/x\(n)"]), dumpID: "d", instanceID: "host-1", at: Int64(n))
        }
        var answers: [Bool] = []
        // A noisy (or spoofed) instance of the attacker's workload spends its own budget …
        for n in 0..<5 { answers.append(limiter.allow(anomaly("attacker", n))) }
        #expect(answers == [true, true, false, false, false])
        // … and the victim's instance with the same id still has all of its own, per version.
        answers = []
        for n in 0..<3 { answers.append(limiter.allow(anomaly("victim", n))) }
        #expect(answers == [true, true, false])
        let otherVersion = limiter.allow(anomaly("victim", tag: "v2", 0))
        #expect(otherVersion)
    }

    /// What the merger reads is checked like dump-consumer's input, and a genuine request (times
    /// already clamped against its receivedAt) passes unchanged, also as an old backlog.
    @Test func mergeRequestLimitsApplyTheEdgeChecksAgain() throws {
        let s: Int64 = 1_000_000_000
        let now: Int64 = 1_800_000_000 * s
        var ok = request([ProcessNode(path: "/app", files: [FileAccess(path: "/etc/a")])])
        ok.receivedAt = now - 3 * 86_400 * s  // three days of backlog
        ok.dump.start = ok.receivedAt - 60 * s
        ok.dump.end = ok.receivedAt - 30 * s
        let limits = MergeRequestLimits()
        let admitted = try limits.admit(ok, valueBytes: 1_000, recordTime: ok.receivedAt + s, now: now)
        #expect(admitted.request == ok && !admitted.clamped)

        var future = ok
        future.receivedAt = now + 10 * 86_400 * s
        future.dump.start = future.receivedAt
        future.dump.end = future.receivedAt + s
        let clamped = try limits.admit(future, valueBytes: 1_000, recordTime: now, now: now)
        #expect(clamped.clamped && clamped.request.receivedAt == now && clamped.request.dump.end == now)
        // A record time from the future is not trusted either.
        let lying = try limits.admit(future, valueBytes: 1_000, recordTime: future.receivedAt, now: now)
        #expect(lying.clamped && lying.request.receivedAt <= now + limits.times.maxAhead)

        var nul = ok
        nul.dump.processes[0].args = ["a\u{0}b"]
        #expect(rejection { () throws(Rejection) in _ = try limits.admit(nul, valueBytes: 1_000, recordTime: nil, now: now) }?.code == "invalid_string")
        #expect(rejection { () throws(Rejection) in _ = try limits.admit(ok, valueBytes: 2_000_000, recordTime: nil, now: now) }?.code == "output_too_large")
        // Normalising gathers a folded process's files onto its parent, so a process may hold up to
        // maxNodes of them here (MergerAdmitsWhatTheEdgeAcceptedTests); more is refused.
        var wide = ok
        wide.dump.processes[0].files = (0..<(limits.dump.maxNodes + 1)).map { FileAccess(path: "/f\($0)") }
        #expect(rejection { () throws(Rejection) in _ = try limits.admit(wide, valueBytes: 1_000, recordTime: nil, now: now) }?.code == "too_many_children")
        let tick = ClockTick(profileKey: String(repeating: "k", count: 300), imageTag: "v1", at: now)
        #expect(rejection { () throws(Rejection) in try limits.admit(tick) }?.code == "identifier_too_long")

        // A tick's accepted anomalies are checked too: one NUL would make PostgreSQL refuse the batch.
        var accepting = ClockTick(profileKey: "img", imageTag: "v1", at: now)
        let node = ProfileNodeKey(type: .exec, value: "/app")
        accepting.accepted = [AcceptedAnomaly(anomalyID: "img|v1|exec:/app|d\u{0}", node: node, instanceID: "i", at: now)]
        #expect(rejection { () throws(Rejection) in try limits.admit(accepting) }?.code == "invalid_string")
        accepting.accepted = [AcceptedAnomaly(anomalyID: String(repeating: "a", count: 3_000), node: node, instanceID: "i", at: now)]
        #expect(rejection { () throws(Rejection) in try limits.admit(accepting) }?.code == "identifier_too_long")
        accepting.accepted = Array(repeating: AcceptedAnomaly(anomalyID: "a", node: node, instanceID: "i", at: now),
                                   count: MergeRequestLimits.maxAcceptedPerTick + 1)
        #expect(rejection { () throws(Rejection) in try limits.admit(accepting) }?.code == "too_many_accepted")
        accepting.accepted = [AcceptedAnomaly(anomalyID: AnomalyID.make(profileKey: "img", imageTag: "v1", node: node, dumpID: "d"),
                                              node: node, instanceID: "i", at: now)]
        #expect(rejection { () throws(Rejection) in try limits.admit(accepting) } == nil)
    }
}

/// The merger's second look must never refuse what dump-consumer accepted: normalising lengthens a
/// `/proc/<pid>` path and gathers a folded process's children and files onto its parent.
@Suite struct MergerAdmitsWhatTheEdgeAcceptedTests {
    @Test func aDumpAtTheLimitsStillPassesOnceNormalised() throws {
        let limits = DumpLimits(maxStringLength: 1_000)  // under the node-key limit: the path can be stored
        let longest = "/proc/1/" + String(repeating: "x", count: limits.maxStringLength - "/proc/1/".count)
        // A worker that forks itself (same binary): its files and children are folded into the parent,
        // 6 000 + 6 000 files on one process, over maxChildren per process.
        let worker = ProcessNode(path: "/usr/bin/app", pid: 8, files: (0..<6_000).map { FileAccess(path: "/data/w\($0)") },
                                 children: (0..<6_000).map { ProcessNode(path: "/bin/c\($0)") })
        let root = ProcessNode(path: "/usr/bin/app", pid: 1, files: [FileAccess(path: longest)] + (0..<5_999).map { FileAccess(path: "/data/r\($0)") },
                               children: [worker] + (0..<5_000).map { ProcessNode(path: "/bin/r\($0)") })
        let dump = ActivityDump(id: "edge", workload: Workload(imageName: "app", containerID: "c1"), start: 1, end: 2, processes: [root])
        let bytes = Array(try JSONEncoder().encode(dump))
        let request = try DumpDecoder(limits: limits).decode(bytes, receivedAt: 2)  // what dump-consumer accepts …
        try StorageLimits().check(request)
        #expect(request.dump.processes[0].files.count > limits.maxChildren)
        #expect(request.dump.processes[0].files.contains { $0.path.utf8.count > limits.maxStringLength })
        // … the merger admits, unchanged.
        let admitted = try MergeRequestLimits(dump: limits).admit(request, valueBytes: 100_000, recordTime: 2, now: 3)
        #expect(admitted.request == request && !admitted.clamped)
        // Past what normalising can produce, the merger still refuses.
        var wider = request
        wider.dump.processes[0].files += [FileAccess(path: String(repeating: "y", count: limits.maxStringLength + 4))]
        #expect(throws: Rejection.self) { _ = try MergeRequestLimits(dump: limits).admit(wider, valueBytes: 100_000, recordTime: 2, now: 3) }
        // And without the slack for normalising, the merger would have refused the genuine request.
        #expect(throws: Rejection.self) { try limits.check(request.dump) }
    }
}
