import BaselineCore
import BaselineWire
import Foundation
import Testing

/// The wire contract: each catalogued topic is one of Baseline's topics and reads back what it writes.
@Suite struct WireCatalogTests {
    let dump = ActivityDump(id: "d1", workload: Workload(imageName: "nginx", imageTag: "1.25", containerID: "c1"),
                            start: 1_000, end: 2_000, processes: [ProcessNode(path: "/usr/sbin/nginx", files: [FileAccess(path: "/etc/nginx/nginx.conf")])])

    @Test func everyCataloguedTopicIsABaselineTopic() {
        let names = [WireCatalog.mergeRequests.name, WireCatalog.clockTicks.name, WireCatalog.profileUpdates.name,
                     WireCatalog.securityAnomalies.name, WireCatalog.suppressionSuggestions.name, WireCatalog.enrichedSignals.name]
        #expect(names.allSatisfy(Topics.all.contains))
        #expect(Set(Topics.all).count == Topics.all.count)
    }

    @Test func mergeRequestsAndClockTicksShareATopicAndAreToldApartByTheKindHeader() throws {
        let request = MergeRequest(dumpID: "d1", sourceFormat: "baseline-json", receivedAt: 5, dump: dump)
        let tick = ClockTick(profileKey: "nginx", imageTag: "1.25", at: 42)
        #expect(WireCatalog.mergeRequests.name == WireCatalog.clockTicks.name)
        #expect(WireCatalog.mergeRequests.headers.isEmpty)
        #expect(WireCatalog.clockTicks.headers == [WireHeader(WireHeaders.kind, WireHeaders.clockTickKind)])
        // Both keyed by profile: a version's ticks stay ordered with its dumps.
        #expect(WireCatalog.mergeRequests.key(for: request) == "nginx")
        #expect(WireCatalog.clockTicks.key(for: tick) == "nginx")

        let requestBytes = try WireCatalog.mergeRequests.encode(request)
        let tickBytes = try WireCatalog.clockTicks.encode(tick)
        #expect(try MergeTopicMessage.decode(requestBytes, kind: nil) == .dump(request))
        #expect(try MergeTopicMessage.decode(tickBytes, kind: WireHeaders.clockTickKind) == .tick(tick))
        // Without its header a tick is read as a merge request, which it is not: rejected, never merged as a dump.
        #expect(throws: (any Error).self) { try MergeTopicMessage.decode(tickBytes, kind: nil) }
        #expect(throws: (any Error).self) { try MergeTopicMessage.decode(requestBytes, kind: WireHeaders.clockTickKind) }
        // A kind this version does not know is not read as a dump, even when the value is one.
        for kind in ["merge-request/v2", "", "Clock-Tick"] {
            #expect(throws: Rejection("unknown_kind", "\(WireHeaders.kind) '\(kind)' is not a kind of \(Topics.profileMergeRequests) "
                                      + "(none for a merge request, or \(WireHeaders.clockTickKind))")) {
                try MergeTopicMessage.decode(requestBytes, kind: kind)
            }
        }
        #expect(MergeTopicMessage.tick(tick).profileKey == "nginx" && MergeTopicMessage.tick(tick).imageTag == "1.25")
        #expect(MergeTopicMessage.dump(request).imageTag == "1.25" && MergeTopicMessage.dump(request).isDump)
    }

    @Test func outputsAreStableJSONThatReadsBack() throws {
        let update = ProfileUpdate(profileKey: "nginx", imageTag: "1.25", revision: 3, dumpsMerged: 10, instances: 2,
                                   states: ["exec": "stable", "file": "learning"])
        let bytes = try WireCatalog.profileUpdates.encode(update)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"dumps_merged":10,"image_tag":"1.25","instances":2"#))
        #expect(try WireCatalog.profileUpdates.decode(bytes) == update)

        let anomaly = AnomalyEvent(Anomaly(profileKey: "nginx", imageTag: "1.25", node: .process(lineage: ["/usr/sbin/nginx", "/bin/nc"]),
                                           dumpID: "d9", instanceID: "c3", at: 77))
        let anomalyBytes = try WireCatalog.securityAnomalies.encode(anomaly)
        #expect(String(decoding: anomalyBytes, as: UTF8.self).contains("/usr/sbin/nginx"))  // slashes unescaped
        #expect(try WireCatalog.securityAnomalies.decode(anomalyBytes) == anomaly)
        #expect(WireCatalog.securityAnomalies.key(for: anomaly) == "nginx")

        let suggestionJSON = #"""
            {"suggestion_id":"sug-1","rule_id":"r1","profile_key":"nginx","image_tag":"1.25","event_type":"exec","node_key":"/usr/sbin/nginx",
             "lineage":["/usr/sbin/nginx"],"query":"@container.image_name:nginx","commonality":1,"instances":2,"instances_total":2,
             "dumps":5,"dumps_merged":5,"explanation":"seen on every instance"}
            """#
        let suggestion = try JSONDecoder().decode(SuppressionSuggestion.self, from: Data(suggestionJSON.utf8))
        let suggestionBytes = try WireCatalog.suppressionSuggestions.encode(suggestion)
        #expect(try WireCatalog.suppressionSuggestions.decode(suggestionBytes) == suggestion)
        #expect(WireCatalog.suppressionSuggestions.key(for: suggestion) == "sug-1")
    }

    @Test func anEnrichedSignalKeepsTheOriginalBytesAndReadsBackItsContext() throws {
        let original = Array(#"{"id":"s1","title":"a/b","attributes":{"x":[1,2]}}"#.utf8)
        let context = BaselineContext(status: .profiled, profileKey: "nginx", imageTag: "1.25", eventType: "exec", inProfile: true,
                                      anomaly: false, suggestionID: "sug-1", explanation: "known")
        let enriched = try EnrichedSignal(original: original, baseline: context)
        #expect(Array(enriched.bytes.prefix(original.count - 1)) == Array(original.dropLast()))
        let read = try WireCatalog.enrichedSignals.decode(try WireCatalog.enrichedSignals.encode(enriched))
        #expect(read.baseline == context && read.bytes == enriched.bytes)
        #expect(WireCatalog.enrichedSignals.key(for: enriched) == nil)  // keyed as the original signal
        // A signal that was never enriched is not an enriched signal.
        #expect(throws: (any Error).self) { try EnrichedSignal(enriched: original) }
    }
}
