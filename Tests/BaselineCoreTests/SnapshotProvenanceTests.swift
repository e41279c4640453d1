import BaselineCore
import Foundation
import Testing

/// A snapshot (what processes held open at one instant, read from /proc) is learned while a
/// profile learns, but is no lifecycle evidence: it never counts toward min_dumps, never moves the
/// quiet period, and never turns a type stable on its own (docs/model.md, Snapshots).
@Suite struct SnapshotProvenanceTests {
    static let minute: Int64 = 60_000_000_000

    func request(_ id: String, at time: Int64, snapshot: Bool, files: [String] = ["/etc/app.conf"]) -> MergeRequest {
        let dump = ActivityDump(id: id, workload: Workload(imageName: "app", imageTag: "1", containerID: "c1"), start: time - 1,
                                end: time, processes: [ProcessNode(path: "/usr/bin/app", files: files.map { FileAccess(path: $0) })],
                                isSnapshot: snapshot)
        return MergeRequest(dumpID: id, sourceFormat: "baseline-json", receivedAt: time, dump: dump)
    }

    /// min_dumps 10, quiet 15 min, as shipped; no warm-up, so every dump is plain learning evidence.
    var config: ModelConfiguration {
        var c = ModelConfiguration()
        c.warmupPeriod = 0
        return c
    }

    @Test func snapshotsAloneNeverMakeAProfileStable() {
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        // `baseline snapshot --interval 60 --send` for four hours: 240 identical views of an instant.
        for i in 0..<240 {
            let r = ProfileMerge.apply(request("s\(i)", at: Int64(i + 1) * Self.minute, snapshot: true), to: &state, config: config)
            #expect(r.transitions.isEmpty)
        }
        #expect(state.version.dumps == 0)
        #expect(state.version.nodeCount(.file) == 1)  // learned while learning
        // The clock sweeper's tick hours later does not make it stable either: no evidence at all.
        #expect(ProfileMerge.evaluate(&state, at: 600 * Self.minute, config: config).isEmpty)
        #expect(state.overallState == .learning)
    }

    @Test func runtimeDumpsStillMakeItStableAsBefore() {
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        var transitions: [LifecycleTransition] = []
        for i in 0..<10 {
            transitions += ProfileMerge.apply(request("r\(i)", at: Int64(i + 1) * Self.minute, snapshot: false), to: &state, config: config).transitions
        }
        #expect(state.version.dumps == 10)
        transitions += ProfileMerge.evaluate(&state, at: 30 * Self.minute, config: config)
        #expect(transitions.contains { $0.to == .stable })
        #expect(state.overallState == .stable)
    }

    @Test func snapshotsNeitherCountNorMoveTheQuietPeriod() {
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        for i in 0..<9 { _ = ProfileMerge.apply(request("r\(i)", at: Int64(i + 1) * Self.minute, snapshot: false), to: &state, config: config) }
        let clock = state.version.clock
        // Snapshots an hour later: they add no dump and do not move the version's clock, so the
        // quiet period does not run on their event times.
        for i in 0..<20 {
            let r = ProfileMerge.apply(request("s\(i)", at: (60 + Int64(i)) * Self.minute, snapshot: true, files: ["/etc/app.conf", "/tmp/s\(i % 2)"]),
                                       to: &state, config: config)
            #expect(r.transitions.isEmpty)
        }
        #expect(state.version.dumps == 9 && state.version.clock == clock)
        // The snapshot-only files stay singletons (unconfirmed) and did not restart the quiet period.
        let s0 = ProfileNodeKey.file(lineage: ["/usr/bin/app"], path: "/tmp/s0")
        #expect(state.version.nodes[s0]?.dumps == 1)
        #expect(state.lifecycle[.file]?.lastNewNodeAt == 1 * Self.minute)
        // A snapshot of a known file confirms nothing.
        let conf = ProfileNodeKey.file(lineage: ["/usr/bin/app"], path: "/etc/app.conf")
        #expect(state.version.nodes[conf]?.dumps == 9)
        // The tenth runtime dump is what makes the count.
        _ = ProfileMerge.apply(request("r9", at: 10 * Self.minute, snapshot: false), to: &state, config: config)
        #expect(state.version.dumps == 10)
    }

    @Test func decodingKeepsProvenanceInEveryFormat() throws {
        let decoder = DumpDecoder()
        func baseline(_ extra: String, node: String = "") -> [UInt8] {
            Array("""
                {"schema":"baseline.activity-dump/v1","id":"d1",\(extra)"workload":{"image_name":"app","container_id":"c1"},
                 "processes":[{"path":"/usr/bin/app"\(node),"children":[{"path":"/bin/sh"\(node)}]}]}
                """.utf8)
        }
        #expect(try decoder.decode(baseline(#""generation_type":"snapshot","#), receivedAt: 1).dump.isSnapshot)
        // Every node says so (an older snapshot encoding): a snapshot too.
        #expect(try decoder.decode(baseline("", node: #","generation_type":"snapshot""#), receivedAt: 1).dump.isSnapshot)
        #expect(try !decoder.decode(baseline(""), receivedAt: 1).dump.isSnapshot)
        #expect(try !decoder.decode(baseline(#""generation_type":"runtime","#), receivedAt: 1).dump.isSnapshot)
        // Datadog: an agent's dump starts with a snapshot, then records runtime activity: runtime.
        func secdump(_ root: String, _ child: String, file: String = "SNAPSHOT") -> [UInt8] {
            Array("""
                {"metadata":{"name":"dd1","container_id":"c1"},"tags":["image_name:app"],"tree":[
                  {"process":{"file":{"path":"/usr/bin/app"}},"generation_type":"\(root)",
                   "files":[{"name":"etc","children":[{"name":"app.conf","file":{"path":"/etc/app.conf"},"open":{"flags":0},"generation_type":"\(file)"}]}],
                   "children":[{"process":{"file":{"path":"/bin/sh"}},"generation_type":"\(child)"}]}]}
                """.utf8)
        }
        #expect(try decoder.decode(secdump("SNAPSHOT", "SNAPSHOT"), receivedAt: 1).dump.isSnapshot)
        #expect(try !decoder.decode(secdump("SNAPSHOT", "RUNTIME"), receivedAt: 1).dump.isSnapshot)
        #expect(try !decoder.decode(secdump("SNAPSHOT", "SNAPSHOT", file: "RUNTIME"), receivedAt: 1).dump.isSnapshot)
        // Through the merge request dump-consumer produces and profile-merger reads.
        let request = try decoder.decode(secdump("SNAPSHOT", "SNAPSHOT"), receivedAt: 1)
        let again = try JSONDecoder().decode(MergeRequest.self, from: JSONEncoder().encode(request))
        #expect(again.dump.isSnapshot)
    }

    @Test func aRuntimeDumpEncodesAsBeforeSoItsContentIDIsUnchanged() throws {
        let dump = ActivityDump(workload: Workload(imageName: "app", imageTag: "1"), processes: [ProcessNode(path: "/a")])
        let json = String(decoding: try JSONEncoder().encode(dump), as: UTF8.self)
        #expect(!json.contains("generation_type"))
        var snapshot = dump
        snapshot.isSnapshot = true
        #expect(DumpDecoder.contentID(of: snapshot) != DumpDecoder.contentID(of: dump))
    }
}
