import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import Testing

/// signal-enricher in-process against the real broker and database, with profiles built by the
/// real merger: suggestions, anomalies, suppressions, fresh context without restart.
@Suite struct SignalEnricherTests {
    let logger = TestStack.logger
    let fixtures = ProfileFixtures()

    struct Running {
        let input: String
        let producer: KafkaProducer
        let marker: String
        let cache: ProfileContextCache
        let suppressions: SuppressionState

        /// Polls `condition` every 50 ms for up to 15 s (the machine may be busy: no fixed sleeps).
        func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline {
                if try await condition() { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        func send(_ json: String) async throws {
            try await producer.send(KafkaRecord(topic: input, key: marker, value: Array(json.utf8)))
        }
    }

    /// Runs enricher + profile-updates listener + suppression refresher while `body` runs.
    func withEnricher(client: PostgresClient, producer: KafkaProducer, _ body: (Running) async throws -> Void) async throws {
        let input = TestStack.unique("signals")
        try await producer.createTopics([(input, 1)])
        let store = SuppressionStore(client: client)
        let cache = ProfileContextCache(store: store, negativeTTL: .milliseconds(100), logger: logger)
        let suppressions = SuppressionState()
        let enricher = SignalEnricher(cache: cache, suppressions: suppressions, store: store, logger: logger)
        let stage = TransformStage(name: "signal-enricher-test",
                                   consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("se"),
                                                               topics: [input], logger: logger),
                                   producer: producer, logger: logger) { try await enricher.transform($0) }
        let listener = try ProfileUpdatesListener(configuration: TestStack.kafka, cache: cache, logger: logger)
        let refresher = SuppressionRefresher(store: store, state: suppressions, interval: .milliseconds(200), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await stage.run() }
            group.addTask { try await listener.run() }
            group.addTask { try await refresher.run() }
            defer { group.cancelAll() }
            // The listener reads from the latest offset: wait until it has joined its group.
            let joinDeadline = ContinuousClock.now + .seconds(20)
            while !listener.isListening && ContinuousClock.now < joinDeadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(listener.isListening)
            try await body(Running(input: input, producer: producer, marker: TestStack.unique("m"), cache: cache,
                                   suppressions: suppressions))
        }
    }

    /// An exec signal as the agent sends it: ancestors nearest first, each inside the workload with
    /// its container id, then the container runtime on the host (no container).
    func exec(_ image: String, rule: String, path: String, parent: String? = nil, container: String? = nil) -> String {
        let cid = container ?? "\(image)-i0"
        let inside = parent.map { #"{"executable":{"path":"\#($0)"},"container":{"id":"\#(cid)"}},"# } ?? ""
        let ancestors = #""ancestors":[\#(inside){"executable":{"path":"/usr/bin/containerd-shim-runc-v2"}}]"#
        return #"{"agent":{"rule_id":"\#(rule)"},"evt":{"name":"exec"},"process":{"executable":{"path":"\#(path)"},"container":{"id":"\#(cid)"},\#(ancestors)},"container":{"id":"\#(cid)"},"tags":["image_name:\#(image)","image_tag:v1"]}"#
    }

    func baseline(_ m: KafkaMessage) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
        return try #require(object["baseline"] as? [String: Any])
    }

    func enriched(_ marker: String, count: Int, timeout: Duration = .seconds(15)) async throws -> [[String: Any]] {
        try await TestStack.collect(Topics.securitySignalsEnriched, count: count, timeout: timeout) { $0.keyString == marker }
            .map(baseline)
    }

    func suggestions(_ image: String, atMost count: Int) async throws -> [[String: Any]] {
        try await TestStack.collect(Topics.suppressionSuggestions, count: count, timeout: .seconds(4)) { m in
            (try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])?["profile_key"] as? String == image
        }.compactMap { try JSONSerialization.jsonObject(with: Data($0.value)) as? [String: Any] }
    }

    @Test func stableProfileSuggestionsAnomaliesAndSuppressions() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        try await fixtures.withMergedProfile(fixtures.workload(image), producer: producer) { client in
            try await withEnricher(client: client, producer: producer) { run in
                let rule = "rule-\(image)"
                // Known, common behaviour (every instance runs /app) of a stable profile, twice.
                try await run.send(exec(image, rule: rule, path: "/app"))
                try await run.send(exec(image, rule: rule, path: "/app"))
                // Unknown behaviour.
                try await run.send(exec(image, rule: rule, path: "/usr/bin/nc", parent: "/app"))
                let out = try await enriched(run.marker, count: 3)
                #expect(out.count == 3)
                #expect(out[0]["in_profile"] as? Bool == true && out[0]["event_type_state"] as? String == "stable")
                #expect(out[0]["anomaly"] as? Bool == false)
                #expect((out[0]["node"] as? [String: Any])?["commonality"] as? Double == 1)
                let suggestionID = try #require(out[0]["suggestion_id"] as? String)
                #expect(out[1]["suggestion_id"] as? String == suggestionID)
                #expect(out[2]["in_profile"] as? Bool == false && out[2]["anomaly"] as? Bool == true)
                #expect(out[2]["suggestion_id"] == nil)

                // Exactly one suggestion for the two matching signals, none for the anomaly.
                let found = try await suggestions(image, atMost: 2)
                #expect(found.count == 1)
                #expect(found.first?["suggestion_id"] as? String == suggestionID)
                #expect(found.first?["query"] as? String == "@container.image_name:\(image) @process.executable.path:/app -@process.parent.container.id:*")

                // Accepting it (the API's storage operation) suppresses later matching signals.
                let suppression = try await SuppressionStore(client: client).accept(suggestionID: suggestionID, by: "test", logger: TestStack.logger)
                #expect(try await run.eventually {  // the refresher picks it up
                    run.suppressions.current.find(ruleID: rule, profileKey: image, node: .process(lineage: ["/app"])) != nil
                })
                try await run.send(exec(image, rule: rule, path: "/app"))
                let later = try await enriched(run.marker, count: 4)
                #expect(later.count == 4)
                #expect(later.last?["suppressed"] as? Bool == true)
                #expect(later.last?["suppression_id"] as? String == suppression.id)
                var hits: Int64 = 0
                _ = try await run.eventually {  // hits are flushed by the refresher
                    hits = try await client.query("SELECT hits FROM suppressions WHERE suppression_id = \(suppression.id)")
                        .decode(Int64.self).reduce(into: 0) { $0 += $1 }
                    return hits > 0
                }
                #expect(hits == 1)
            }
        }
    }

    @Test func learningProfileGetsNoSuggestionUntilAnUpdateMakesItStable() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        let early = TestStack.unique("merge"), late = TestStack.unique("merge")
        try await producer.createTopics([(early, 1), (late, 1)])
        let all = fixtures.workload(image)
        try await fixtures.produce(Array(all.prefix(4)), to: early, producer: producer)
        try await fixtures.produce(Array(all.dropFirst(4)), to: late, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let group = TestStack.unique("g")
            try await fixtures.runMerger(topic: early, group: group, expected: 4, maxBatch: 50, client: client, producer: producer)
            try await withEnricher(client: client, producer: producer) { run in
                let rule = "rule-\(image)"
                try await run.send(exec(image, rule: rule, path: "/app"))
                let first = try await enriched(run.marker, count: 1)
                #expect(first.first?["in_profile"] as? Bool == true)
                #expect(first.first?["event_type_state"] as? String == "learning")
                #expect(first.first?["suggestion_id"] == nil)

                // More dumps make the profile stable; the merger publishes profile-updates and the
                // running enricher picks the new state up without a restart.
                #expect(run.cache.isCached(profileKey: image, imageTag: "v1"))
                try await fixtures.runMerger(topic: late, group: TestStack.unique("g"), expected: 8, maxBatch: 50, client: client, producer: producer)
                #expect(try await run.eventually { !run.cache.isCached(profileKey: image, imageTag: "v1") })  // dropped on the update
                try await run.send(exec(image, rule: rule, path: "/app"))
                let both = try await enriched(run.marker, count: 2)
                #expect(both.count == 2)
                #expect(both.last?["event_type_state"] as? String == "stable")
                #expect(both.last?["suggestion_id"] is String)
                #expect(try await suggestions(image, atMost: 1).count == 1)
            }
        }
    }

    @Test func signalsByContainerIDAndMalformedSignals() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        try await fixtures.withMergedProfile(fixtures.workload(image), producer: producer) { client in
            try await withEnricher(client: client, producer: producer) { run in
                // No tags: the workload comes from the container id the merger has seen.
                try await run.send(#"{"agent":{"rule_id":"r"},"evt":{"name":"exec"},"process":{"executable":{"path":"/app"},"ancestors":[{"executable":{"path":"/usr/bin/containerd-shim-runc-v2"}}]},"container":{"id":"\#(image)-i3"}}"#)
                try await run.send(#"{"evt": {"name": "exec"}, "truncated"#)
                try await run.send(#"{"agent":{"rule_id":"r"},"evt":{"name":"exec"},"process":{"executable":{"path":"/app"}},"container":{"id":"never-seen"}}"#)
                let out = try await enriched(run.marker, count: 2)
                #expect(out.count == 2)
                #expect(out.first?["status"] as? String == "profiled")
                #expect(out.first?["profile_key"] as? String == image && out.first?["in_profile"] as? Bool == true)
                #expect(out.last?["status"] as? String == "unknown_workload")
                let dead = try await TestStack.collect(Topics.securitySignalsDLQ, count: 1) { $0.keyString == run.marker }
                #expect(dead.first?.header(WireHeaders.errorCode)?.stringValue == "invalid_json")
            }
        }
    }

    /// Two instances' relays draining the suggestion outbox at the same moment publish each
    /// suggestion once (one holds the lease, the other skips the round).
    @Test func twoRelaysPublishEachUnpublishedSuggestionOnce() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("sugg")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        try await producer.createTopics([(Topics.suppressionSuggestions, 1)])
        let ids = (0..<10).map { "sug-\(image)-\($0)" }
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let store = SuppressionStore(client: client)
            for id in ids {
                let json = #"{"suggestion_id":"\#(id)","rule_id":"r1","profile_key":"\#(image)","image_tag":"v1","event_type":"exec","node_key":"/app","lineage":["/app"],"query":"q","commonality":1,"instances":1,"instances_total":1,"dumps":1,"dumps_merged":1,"explanation":"e"}"#
                #expect(try await store.record(try JSONDecoder().decode(SuppressionSuggestion.self, from: Data(json.utf8))))
            }
            // Recorded a minute ago and never acknowledged (the broker failed in between).
            try await client.query("UPDATE suppression_suggestions SET created_at = now() - interval '1 minute' WHERE suggestion_id = ANY(\(ids))")
            let relays = (0..<2).map { _ in SignalEnricher(cache: nil, store: store, logger: logger) }
            // A round while another session holds the lease (an instance mid-drain) skips: counted, nothing published.
            let skipsBefore = OutboxLeaseSkips.total("suggestion-outbox")
            // (Checked while held: once released, any test's relay may drain these rows.)
            let unpublished = try await OutboxLeaseHolder.holding("suggestion-outbox", client: client) {
                await relays[1].drainSuggestionOutbox(producer: producer)
                var unpublished: Int64 = -1
                for try await c in try await client.query(
                    "SELECT count(*) FROM suppression_suggestions WHERE suggestion_id = ANY(\(ids)) AND NOT published").decode(Int64.self) {
                    unpublished = c
                }
                return unpublished
            }
            #expect(OutboxLeaseSkips.total("suggestion-outbox") > skipsBefore)
            #expect(unpublished == 10)
            async let first: Void = relays[0].drainSuggestionOutbox(producer: producer)
            async let second: Void = relays[1].drainSuggestionOutbox(producer: producer)
            _ = await (first, second)
            func published() async throws -> Int64 {
                var n: Int64 = -1
                for try await c in try await client.query(
                    "SELECT count(*) FROM suppression_suggestions WHERE suggestion_id = ANY(\(ids)) AND published").decode(Int64.self) { n = c }
                return n
            }
            // Another relay may have held the lease for that round: later rounds publish the rest.
            let deadline = ContinuousClock.now + .seconds(15)
            while try await published() < 10 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                await relays[0].drainSuggestionOutbox(producer: producer)
            }
            #expect(try await published() == 10)
        }
        // One more than published: a duplicate ends the read early, else all of the topic has time to be read.
        let events = try await TestStack.collect(Topics.suppressionSuggestions, count: 11, timeout: .seconds(20)) {
            $0.keyString.map(ids.contains) ?? false
        }
        #expect(events.count == 10 && Set(events.compactMap(\.keyString)) == Set(ids), "\(events.count) published for 10 suggestions")
    }
}
