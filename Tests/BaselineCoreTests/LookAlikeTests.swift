import BaselineCore
import Foundation
import Testing

/// Attack shapes: look-alike strings. Swift's String equality follows Unicode canonical
/// equivalence ("\u{212A}" KELVIN SIGN == "K", "e\u{301}" == "é"), the kernel and file systems
/// compare bytes: `/srv/\u{212A}iosk/bin/run` is an attacker's file, not the learned
/// `/srv/Kiosk/bin/run`. Nothing in a profile, a pattern or a suppression may match it.
@Suite struct LookAlikeTests {
    static let real = "/srv/Kiosk/bin/run"
    static let kelvin = "/srv/\u{212A}iosk/bin/run"

    @Test func swiftStringsDoConsiderThemEqual() {
        // The premise: without byte comparison these would collide.
        #expect(Self.real == Self.kelvin)
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(!Self.real.bytesEqual(Self.kelvin) && !"caf\u{E9}".bytesEqual("cafe\u{301}"))
    }

    @Test func nodeKeysCompareByBytes() {
        let a = ProfileNodeKey.process(lineage: [Self.real]), b = ProfileNodeKey.process(lineage: [Self.kelvin])
        #expect(a != b && Set([a, b]).count == 2)
        let files = [ProfileNodeKey.file(lineage: ["/app"], path: "/data/caf\u{E9}.db"), .file(lineage: ["/app"], path: "/data/cafe\u{301}.db")]
        #expect(Set(files).count == 2)
    }

    static func dump(_ path: String, files: [String] = []) -> ActivityDump {
        ActivityDump(workload: Workload(imageName: "kiosk", containerID: "c1"),
                     processes: [ProcessNode(path: path, files: files.map { FileAccess(path: $0) })])
    }

    @Test func aLookAlikeBinaryIsAnAnomalyOfAStableProfile() {
        var version = ProfileVersion(profileKey: "kiosk", imageTag: "1")
        version.merge(Self.dump(Self.real), at: 1)
        let outcome = version.merge(Self.dump(Self.kelvin), at: 2, frozen: Set(EventType.allCases))
        #expect(outcome.anomalies == [.process(lineage: [Self.kelvin])])
        #expect(outcome.touched.isEmpty, "the learned node was not counted again")
        // The genuine binary is known.
        #expect(version.merge(Self.dump(Self.real), at: 3, frozen: Set(EventType.allCases)).anomalies.isEmpty)
    }

    @Test func aLookAlikeNameIsOutsideAMinedPattern() {
        #expect(PatternMiner.matches("Key-17.log", pattern: "Key-*.log"))
        #expect(!PatternMiner.matches("\u{212A}ey-17.log", pattern: "Key-*.log"))
        // Mined from real siblings, the pattern does not take in a look-alike sibling either.
        var version = ProfileVersion(profileKey: "kiosk", imageTag: "1", miner: PatternMiner(threshold: 3))
        let names = (1...3).map { "/var/Kiosk/Key-\($0).log" }
        version.merge(Self.dump("/app", files: names), at: 1)
        let pattern = ProfileNodeKey.file(lineage: ["/app"], path: "/var/Kiosk/Key-*.log")
        #expect(version.nodes[pattern]?.isPattern == true)
        #expect(version.generalised(.file(lineage: ["/app"], path: "/var/Kiosk/Key-9.log")) == pattern)
        // Neither a look-alike name nor a look-alike directory is rewritten into any pattern.
        for path in ["/var/Kiosk/\u{212A}ey-9.log", "/var/\u{212A}iosk/Key-9.log"] {
            let key = ProfileNodeKey.file(lineage: ["/app"], path: path)
            #expect(version.generalised(key) == key, "\(path) was taken for the pattern")
        }
    }

    @Test func aSuppressionIsNotFoundForALookAlikeNode() {
        let node = ProfileNodeKey.process(lineage: [Self.real])
        let index = SuppressionIndex([Suppression(id: "s1", ruleID: "r1", profileKey: "kiosk", nodeKey: node, query: "q")])
        #expect(index.find(ruleID: "r1", profileKey: "kiosk", node: node)?.id == "s1")
        #expect(index.find(ruleID: "r1", profileKey: "kiosk", node: .process(lineage: [Self.kelvin])) == nil)
        #expect(index.find(ruleID: "r1", profileKey: "\u{212A}iosk", node: node) == nil, "nor for a look-alike image")
    }

    /// A look-alike child of the learned root is another program: not folded into its parent
    /// (dumps) nor taken for a fork of it (signals), so its activity is never the root's.
    @Test func aLookAlikeChildIsNotTheSameProgramAsItsParent() {
        #expect(!NodeIdentity.sameProgram((Self.real, nil, []), (Self.kelvin, nil, []), differentiateArgs: false))
        #expect(NodeIdentity.sameProgram((Self.real, nil, []), (Self.real, nil, []), differentiateArgs: false))
        var version = ProfileVersion(profileKey: "kiosk", imageTag: "1")
        version.merge(Self.dump(Self.real), at: 1)
        let child = ActivityDump(workload: Workload(imageName: "kiosk", containerID: "c1"),
                                 processes: [ProcessNode(path: Self.real, children: [ProcessNode(path: Self.kelvin)])])
        let outcome = version.merge(DumpNormalizer().normalize(child), at: 2, frozen: Set(EventType.allCases))
        #expect(outcome.anomalies == [.process(lineage: [Self.real, Self.kelvin])])
    }

    @Test func aSignalOfALookAlikeChildKeepsItsOwnLineage() {
        let activity = SignalActivity(type: .exec, lineage: [SignalProcess(path: Self.real), SignalProcess(path: Self.kelvin)],
                                      boundary: .container, activity: nil)
        #expect(activity.lineageIdentities(differentiateArgs: false).count == 2)
        #expect(activity.key() == .process(lineage: [Self.real, Self.kelvin]))
        let fork = SignalActivity(type: .exec, lineage: [SignalProcess(path: Self.real), SignalProcess(path: Self.real)],
                                  boundary: .container, activity: nil)
        #expect(fork.lineageIdentities(differentiateArgs: false).count == 1, "a real fork still adds no lineage")
    }
}
