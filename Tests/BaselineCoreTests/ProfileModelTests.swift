import BaselineCore
import Testing

@Suite struct ProfileModelTests {
    static let second: Int64 = 1_000_000_000

    func dump(_ instance: String, files: [String] = [], child: String? = nil) -> ActivityDump {
        ActivityDump(workload: Workload(imageName: "app", imageTag: "1", containerID: instance), processes: [
            ProcessNode(path: "/app", files: files.map { FileAccess(path: $0) },
                        children: child.map { [ProcessNode(path: $0)] } ?? []),
        ])
    }

    @Test func mergeCountsDumpsInstancesAndCommonality() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        let new1 = v.merge(dump("c1", files: ["/etc/a"]), at: 10).learned
        #expect(new1.count == 2)
        #expect(v.merge(dump("c1", files: ["/etc/a"]), at: 20).learned.isEmpty)  // same instance again: nothing new
        _ = v.merge(dump("c2", files: ["/etc/a", "/tmp/rare"]), at: 30)
        _ = v.merge(dump("c3", files: ["/etc/a"], child: "/bin/sh"), at: 40)
        #expect(v.dumps == 4 && v.instances == 3)
        let app = ProfileNodeKey.process(lineage: ["/app"])
        let etc = ProfileNodeKey.file(lineage: ["/app"], path: "/etc/a")
        let rare = ProfileNodeKey.file(lineage: ["/app"], path: "/tmp/rare")
        #expect(v.commonality(of: app) == 1)
        #expect(v.commonality(of: etc) == 1)
        #expect(abs(v.commonality(of: rare) - 1.0 / 3) < 1e-9)
        #expect(v.nodes[app]?.dumps == 4 && v.nodes[app]?.firstSeen == 10 && v.nodes[app]?.lastSeen == 40)
        // Process score: mean of itself (1), /etc/a (1), /tmp/rare (1/3).
        #expect(abs(v.processCommonality(lineage: app) - (1 + 1 + 1.0 / 3) / 3) < 1e-9)
        #expect(v.commonality(of: .process(lineage: ["/app", "/bin/sh"])) == 1.0 / 3)
        #expect(v.commonality(of: .process(lineage: ["/never"])) == 0)
    }

    @Test func coverageFollowsChaoJost() {
        // T=10, Q1=2, Q2=1, U=30: Ĉ = 1 − (2/30)·(9·2 / (9·2 + 2·1)) = 1 − (1/15)·(18/20) = 0.94
        let c = CoverageEstimate(dumps: 10, q1: 2, q2: 1, incidences: 30, nodes: 8)
        #expect(abs(c.coverage - 0.94) < 1e-12)
        #expect(abs(c.novelty - 0.06) < 1e-12)
        #expect(abs(c.unseenEstimate - 0.9 * 4 / 2) < 1e-12)
        #expect(CoverageEstimate(dumps: 10, q1: 0, q2: 3, incidences: 30, nodes: 5).coverage == 1)
        // Q2 = 0 form: (T−1)(Q1−1) / ((T−1)(Q1−1) + 2) = 9·2/(18+2) = 0.9; Ĉ = 1 − (3/30)·0.9 = 0.91
        #expect(abs(CoverageEstimate(dumps: 10, q1: 3, q2: 0, incidences: 30, nodes: 5).coverage - 0.91) < 1e-12)
        #expect(c.dumpsToReach(0.5) == 0)
        let more = try! #require(c.dumpsToReach(0.99))
        #expect(more > 0)
    }

    @Test func versionCountersMatchADirectRecount() {
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        let plan: [(String, [String])] = [("c1", ["/a", "/b"]), ("c2", ["/a"]), ("c3", ["/a", "/c"]), ("c1", ["/a", "/b", "/d"])]
        for (i, (instance, files)) in plan.enumerated() { v.merge(dump(instance, files: files), at: Int64(i)) }
        let fileNodes = v.nodes.filter { $0.key.type == .file }
        let c = v.coverage(.file)
        #expect(c.dumps == 4)
        #expect(c.q1 == fileNodes.values.filter { $0.dumps == 1 }.count)  // /c, /d
        #expect(c.q2 == fileNodes.values.filter { $0.dumps == 2 }.count)  // /b
        #expect(c.incidences == fileNodes.values.map(\.dumps).reduce(0, +))
        #expect(c.q1 == 2 && c.q2 == 1 && c.incidences == 8)
    }

    @Test func learningBecomesStableOnlyWithEvidenceAndQuiet() {
        var config = LifecycleConfiguration()
        config.minDumps = 5
        config.minInstances = 2
        config.maxNovelty = 0.05
        config.minQuietPeriod = 60 * Self.second
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        var exec = EventTypeLifecycle(startedAt: 0)
        for i in 0..<4 {
            if !v.merge(dump("c\(i % 2)"), at: Int64(i) * Self.second).learned.isEmpty { exec.sawNewNodes(at: Int64(i) * Self.second) }
        }
        // 4 dumps < minDumps: still learning however quiet.
        #expect(exec.evaluate(.exec, version: v, now: 3600 * Self.second, config: config) == nil)
        v.merge(dump("c2"), at: 3601 * Self.second)
        // Enough dumps now, but evaluate right after the last *new* node was seen long ago: stable.
        let t = exec.evaluate(.exec, version: v, now: 3602 * Self.second, config: config)
        #expect(t?.to == .stable && t?.from == .learning)
        #expect(t?.evidence.dumps == 5 && t?.evidence.instances == 3)
        #expect(t?.reason.hasPrefix("stable: 5 dumps from 3 instances") == true)
        #expect(exec.state == .stable)
        #expect(exec.evaluate(.exec, version: v, now: 9999 * Self.second, config: config) == nil)  // stable stays
    }

    @Test func newBehaviourResetsTheQuietClock() {
        var config = LifecycleConfiguration()
        config.minDumps = 1
        config.maxNovelty = 1
        config.minQuietPeriod = 100 * Self.second
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        var file = EventTypeLifecycle(startedAt: 0)
        v.merge(dump("c1", files: ["/a"]), at: 0)
        _ = v.merge(dump("c1", files: ["/b"]), at: 90 * Self.second)
        file.sawNewNodes(at: 90 * Self.second)
        #expect(file.evaluate(.file, version: v, now: 150 * Self.second, config: config) == nil)  // quiet for 60 s only
        #expect(file.evaluate(.file, version: v, now: 190 * Self.second, config: config)?.to == .stable)
    }

    @Test func learningTooLongOrTooLargeIsUnstable() {
        var config = LifecycleConfiguration()
        config.maxLearningPeriod = 1000 * Self.second
        var v = ProfileVersion(profileKey: "app", imageTag: "1")
        v.merge(dump("c1", files: ["/a"]), at: 0)
        var dns = EventTypeLifecycle(startedAt: 0)
        let late = dns.evaluate(.dns, version: v, now: 1000 * Self.second, config: config)
        #expect(late?.to == .unstable && late?.reason.hasPrefix("still learning") == true)

        // The cap counts the type's own nodes: one exec node is over a cap of 0, no DNS node is not.
        config.nodeCap = 0
        var exec = EventTypeLifecycle(startedAt: 0)
        let big = exec.evaluate(.exec, version: v, now: 1, config: config)
        #expect(big?.to == .unstable && big?.reason.hasPrefix("too_large") == true)
        var quietDNS = EventTypeLifecycle(startedAt: 0)
        #expect(quietDNS.evaluate(.dns, version: v, now: 1, config: config) == nil)
    }
}
