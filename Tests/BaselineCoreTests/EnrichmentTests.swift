import BaselineCore
import Foundation
import Testing

@Suite struct EnrichmentTests {
    /// nginx:1.25 with 4 instances; /bin/sh only on one of them; session files collapsed into a pattern.
    func state(stable: Bool) -> VersionState {
        var v = ProfileVersion(profileKey: "nginx", imageTag: "1.25", miner: PatternMiner(threshold: 3))
        for i in 0..<4 {
            let dump = ActivityDump(workload: Workload(imageName: "nginx", imageTag: "1.25", containerID: "c\(i)"), processes: [
                ProcessNode(path: "/usr/sbin/nginx", files: [FileAccess(path: "/etc/nginx/nginx.conf"), FileAccess(path: "/tmp/sess-\(i)x\(i)")],
                            dns: [DNSRequest(name: "api.example.com")], binds: [SocketBind(port: 80)],
                            children: i == 0 ? [ProcessNode(path: "/bin/sh")] : []),
            ])
            v.merge(dump, at: Int64(i))
        }
        var lifecycle: [EventType: EventTypeLifecycle] = [:]
        for t in EventType.allCases { lifecycle[t] = EventTypeLifecycle(state: stable ? .stable : .learning, learningSince: 0, lastNewNodeAt: 0) }
        return VersionState(version: v, lifecycle: lifecycle)
    }

    func signal(_ json: String) throws -> SecuritySignal { try SecuritySignal.parse(Array(json.utf8)) }

    let nginxExec = #"{"agent":{"rule_id":"r1"},"evt":{"name":"exec"},"process":{"executable":{"path":"/usr/sbin/nginx"},"ancestors":[{"executable":{"path":"/usr/bin/containerd-shim-runc-v2"}}]},"tags":["image_name:nginx","image_tag:1.25"]}"#

    @Test func commonBehaviourOfAStableProfileYieldsASuggestion() throws {
        let s = try signal(nginxExec)
        let r = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state(stable: true)),
                                  suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
        #expect(r.context.inProfile && !r.context.anomaly && r.context.eventTypeState == "stable")
        #expect(r.context.node?.commonality == 1 && r.context.node?.instances == 4)
        let suggestion = try #require(r.suggestion)
        #expect(suggestion.query == "@container.image_name:nginx @process.executable.path:/usr/sbin/nginx")
        #expect(suggestion.suggestionID == SuppressionSuggestion.id(ruleID: "r1", profileKey: "nginx", node: .process(lineage: ["/usr/sbin/nginx"])))
        #expect(r.context.suggestionID == suggestion.suggestionID)
    }

    @Test func rareBehaviourIsInProfileButGetsNoSuggestion() throws {
        let s = try signal(#"{"agent":{"rule_id":"r1"},"evt":{"name":"exec"},"process":{"executable":{"path":"/bin/sh"},"parent":{"executable":{"path":"/usr/sbin/nginx"}}},"tags":["image_name:nginx","image_tag:1.25"]}"#)
        let r = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state(stable: true)),
                                  suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
        #expect(r.context.inProfile && r.context.node?.commonality == 0.25)
        #expect(r.suggestion == nil)
    }

    @Test func unknownBehaviourIsAnAnomalyOnlyWhenStable() throws {
        let s = try signal(#"{"agent":{"rule_id":"r1"},"evt":{"name":"exec"},"process":{"executable":{"path":"/usr/bin/nc"},"parent":{"executable":{"path":"/usr/sbin/nginx"}}},"tags":["image_name:nginx","image_tag:1.25"]}"#)
        let stable = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state(stable: true)),
                                       suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
        #expect(!stable.context.inProfile && stable.context.anomaly && stable.suggestion == nil)
        #expect(stable.context.explanation.contains("anomaly"))
        let learning = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state(stable: false)),
                                         suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
        #expect(!learning.context.anomaly && learning.suggestion == nil)
    }

    @Test func learningProfileYieldsNoSuggestion() throws {
        let s = try signal(nginxExec)
        let r = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state(stable: false)),
                                  suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
        #expect(r.context.inProfile && r.suggestion == nil && r.context.eventTypeState == "learning")
    }

    @Test func filesMatchThroughNormalisationAndPatterns() throws {
        let conf = try signal(#"{"agent":{"rule_id":"r2"},"evt":{"name":"open"},"process":{"pid":7,"executable":{"path":"/usr/sbin/nginx"}},"file":{"path":"/tmp/sess-9z9"},"tags":["image_name:nginx"]}"#)
        let m = ProfileMatcher(state: state(stable: true))
        let r = Enrichment.enrich(conf, workload: conf.workload, matcher: m, suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
        #expect(r.context.inProfile && r.context.node?.path == "/tmp/sess-*" && r.context.node?.commonality == 1)
        #expect(r.suggestion?.query == "@container.image_name:nginx @process.executable.path:/usr/sbin/nginx @file.path:/tmp/sess-*")
        let dns = try signal(#"{"agent":{"rule_id":"r3"},"evt":{"name":"dns"},"process":{"executable":{"path":"/usr/sbin/nginx"}},"dns":{"question":{"name":"API.example.com","type":"A"}},"tags":["image_name:nginx"]}"#)
        #expect(Enrichment.enrich(dns, workload: dns.workload, matcher: m, suppressions: SuppressionIndex(), config: EnrichmentConfiguration()).context.inProfile)
        let bind = try signal(#"{"agent":{"rule_id":"r4"},"evt":{"name":"bind"},"process":{"executable":{"path":"/usr/sbin/nginx"}},"bind":{"addr":{"ip":"0.0.0.0","port":80,"family":"AF_INET"}},"tags":["image_name:nginx"]}"#)
        #expect(Enrichment.enrich(bind, workload: bind.workload, matcher: m, suppressions: SuppressionIndex(), config: EnrichmentConfiguration()).context.inProfile)
    }

    @Test func suppressionsAndAutoSuppression() throws {
        let s = try signal(nginxExec)
        let node = ProfileNodeKey.process(lineage: ["/usr/sbin/nginx"])
        let index = SuppressionIndex([Suppression(id: "sup-1", ruleID: "r1", profileKey: "nginx", nodeKey: node, query: "q")])
        let r = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state(stable: true)), suppressions: index,
                                  config: EnrichmentConfiguration())
        #expect(r.context.suppressed && r.context.suppressionID == "sup-1" && r.suggestion == nil)
        // Another rule is not suppressed.
        let other = try signal(nginxExec.replacingOccurrences(of: "\"r1\"", with: "\"r9\""))
        #expect(!Enrichment.enrich(other, workload: other.workload, matcher: ProfileMatcher(state: state(stable: true)), suppressions: index,
                                   config: EnrichmentConfiguration()).context.suppressed)
        var auto = EnrichmentConfiguration()
        auto.autoSuppress = [.exec]
        let a = Enrichment.enrich(other, workload: other.workload, matcher: ProfileMatcher(state: state(stable: true)),
                                  suppressions: SuppressionIndex(), config: auto)
        #expect(a.context.suppressed && a.context.suppressionID == "auto:exec")
    }

    @Test func unknownWorkloadAndNoProfile() throws {
        let s = try signal(#"{"evt":{"name":"exec"},"process":{"executable":{"path":"/x"}}}"#)
        #expect(Enrichment.enrich(s, workload: nil, matcher: nil, suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
                    .context.status == .unknownWorkload)
        #expect(Enrichment.enrich(s, workload: Workload(imageName: "x"), matcher: nil, suppressions: SuppressionIndex(),
                                  config: EnrichmentConfiguration()).context.status == .noProfile)
    }

    @Test func enrichedBytesKeepTheOriginal() throws {
        let original = Array(nginxExec.utf8)
        let out = try SecuritySignal.appendingBaseline(.noProfile(workload: nil), to: original)
        #expect(Array(out.prefix(original.count - 1)) == Array(original.dropLast()))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect((object["baseline"] as? [String: Any])?["status"] as? String == "unknown_workload")
        #expect(try SecuritySignal.appendingBaseline(.noProfile(workload: nil), to: Array("{ }".utf8)).first == UInt8(ascii: "{"))
    }
}
