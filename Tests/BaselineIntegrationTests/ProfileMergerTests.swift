import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import Testing

/// profile-merger against the real broker and database: exactly-once effect, determinism across
/// batch boundaries and replays, the learning model end to end, anomalies, the views.
@Suite struct ProfileMergerTests {
    let logger = TestStack.logger
    let fixtures = ProfileFixtures()
    static let second: Int64 = 1_000_000_000

    func request(_ image: String, dump id: String, instance: String, at minute: Int64, children: [String] = [],
                 files: [String] = []) -> MergeRequest {
        fixtures.request(image, dump: id, instance: instance, at: minute, children: children, files: files)
    }
    func workload(_ image: String) -> [MergeRequest] { fixtures.workload(image) }
    func produce(_ r: [MergeRequest], to topic: String, producer: KafkaProducer) async throws {
        try await fixtures.produce(r, to: topic, producer: producer)
    }
    func runMerger(topic: String, group: String, expected: Int64, maxBatch: Int, client: PostgresClient,
                   producer: KafkaProducer) async throws {
        try await fixtures.runMerger(topic: topic, group: group, expected: expected, maxBatch: maxBatch, client: client, producer: producer)
    }

    func snapshot(_ image: String, client: PostgresClient) async throws -> [String] {
        try await fixtures.snapshot(image, client: client)
    }

    @Test func replaysAndBatchBoundariesLeaveProfilesIdentical() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let a = TestStack.unique("img"), b = TestStack.unique("img")
        let topicA = TestStack.unique("merge-a"), topicB = TestStack.unique("merge-b")
        try await producer.createTopics([(topicA, 1), (topicB, 1)])
        // A: every dump twice (a retrying producer); B: each once. Same content under another name.
        let requestsA = workload(a).flatMap { [$0, $0] }
        try await produce(requestsA, to: topicA, producer: producer)
        try await produce(workload(b), to: topicB, producer: producer)

        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let groupA = TestStack.unique("g"), groupB = TestStack.unique("g")
            try await runMerger(topic: topicA, group: groupA, expected: Int64(requestsA.count), maxBatch: 500, client: client, producer: producer)
            try await runMerger(topic: topicB, group: groupB, expected: 12, maxBatch: 1, client: client, producer: producer)
            let first = try await snapshot(a, client: client)
            let other = try await snapshot(b, client: client)
            #expect(first.filter { $0.hasPrefix("dump ") }.count == 12)  // duplicates were no-ops
            #expect(first.contains { $0.hasPrefix("version v1 12 5 ") })
            // One big batch vs one dump per transaction: the same profile.
            #expect(first.map { $0.replacingOccurrences(of: a, with: "X") } == other.map { $0.replacingOccurrences(of: b, with: "X") })

            // Replay the whole topic from offset 0 (a new group, a cold cache, other batch sizes): nothing changes.
            try await runMerger(topic: topicA, group: TestStack.unique("g"), expected: Int64(requestsA.count), maxBatch: 7, client: client, producer: producer)
            #expect(try await snapshot(a, client: client) == first)
        }
    }

    @Test func learnsUntilStableThenReportsAnomalies() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        var requests = workload(image)
        // After the baseline: an established instance spawns an unknown binary (anomaly), and a
        // brand-new instance does it during its warm-up (no anomaly, but not learned either: a
        // fresh container must not be able to teach a stable profile).
        requests.append(request(image, dump: "\(image)-late", instance: "\(image)-i1", at: 400, children: ["/usr/bin/nc"], files: ["/etc/app.conf"]))
        requests.append(request(image, dump: "\(image)-warm", instance: "new", at: 401, children: ["/usr/bin/curl"], files: ["/etc/app.conf"]))
        try await produce(requests, to: topic, producer: producer)
        let total = Int64(requests.count)

        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await runMerger(topic: topic, group: TestStack.unique("g"), expected: total, maxBatch: 5,
                                client: client, producer: producer)
            let transitions = try await client.query("""
                SELECT event_type, to_state, reason FROM state_transitions WHERE profile_key = \(image) ORDER BY at_ns, event_type
                """).decode((String, String, String).self).reduce(into: []) { $0.append($1) }
            #expect(transitions.contains { $0.0 == "exec" && $0.1 == "stable" })
            #expect(transitions.first { $0.0 == "exec" }?.2.hasPrefix("stable: ") == true)

            let anomalies = try await client.query("""
                SELECT node_key, instance_id, status FROM anomalies WHERE profile_key = \(image)
                """).decode((String, String, String).self).reduce(into: []) { $0.append($1) }
            #expect(anomalies.count == 1)
            #expect(anomalies.first?.0 == "/app > /usr/bin/nc" && anomalies.first?.1 == "\(image)-i1" && anomalies.first?.2 == "pending")
            // Neither the anomalous node nor the warm-up one was learned.
            let nodes = try await client.query("""
                SELECT node_key FROM profile_nodes WHERE profile_key = \(image) AND event_type = 'exec'
                """).decode(String.self).reduce(into: Set<String>()) { $0.insert($1) }
            #expect(nodes == ["/app", "/app > /bin/sh"])
            let warm = try await client.query("""
                SELECT warming_up FROM merged_dumps WHERE dump_id = \("\(image)-warm")
                """).decode(Bool.self).reduce(into: [Bool]()) { $0.append($1) }
            #expect(warm == [true])
            // Pattern mining collapsed the session files.
            let files = try await client.query("""
                SELECT node_key FROM profile_nodes WHERE profile_key = \(image) AND event_type = 'file'
                """).decode(String.self).reduce(into: Set<String>()) { $0.insert($1) }
            #expect(files == ["/app | /etc/app.conf", "/app | /tmp/sess-*"])

            // The views say the same.
            let summary = try await client.query("""
                SELECT dumps_merged, instances, exec_state, pending_anomalies FROM profile_summary WHERE image_name = \(image)
                """).decode((Int64, Int64, String, Int64).self).reduce(into: []) { $0.append($1) }
            #expect(summary.count == 1)
            #expect(summary.first?.0 == 14 && summary.first?.1 == 6 && summary.first?.2 == "stable" && summary.first?.3 == 1)
            let history = try await client.query("""
                SELECT event FROM profile_history WHERE image_name = \(image)
                """).decode(String.self).reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            #expect(history["dump_merged"] == 14 && history["anomaly"] == 1 && (history["state_stable"] ?? 0) >= 1)
        }
        // And the anomaly reached the topic.
        let events = try await TestStack.collect(Topics.securityAnomalies, count: 1) { $0.keyString == image }
        let event = try #require(events.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.value)) as? [String: Any])
        #expect(object["lineage"] as? [String] == ["/app", "/usr/bin/nc"])
        #expect(object["event_type"] as? String == "exec")
        #expect(object["instance_id"] as? String == "\(image)-i1")
    }

    /// An anomaly accepted through the API is learned by the merger (in order with the profile's
    /// dumps) and not raised again; a different unknown binary still is.
    @Test func acceptedAnomalyIsLearnedThroughTheMergePath() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        let topic = TestStack.unique("merge")
        let group = TestStack.unique("g")
        try await producer.createTopics([(topic, 1)])
        var requests = workload(image)
        requests.append(request(image, dump: "\(image)-late", instance: "\(image)-i1", at: 400, children: ["/usr/bin/nc"], files: ["/etc/app.conf"]))
        try await produce(requests, to: topic, producer: producer)
        let first = Int64(requests.count)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await runMerger(topic: topic, group: group, expected: first, maxBatch: 5, client: client, producer: producer)
            let id = try #require(try await client.query("SELECT anomaly_id FROM anomalies WHERE profile_key = \(image)")
                .decode(String.self).reduce(into: [String]()) { $0.append($1) }.first)
            // Attack shape: a tick written straight to the topic, naming the still-pending anomaly and a
            // made-up one, each with a node of its own choosing: nothing is learned, nothing marked.
            var forged = ClockTick(profileKey: image, imageTag: "v1", at: 1)
            forged.accepted = [AcceptedAnomaly(anomalyID: id, node: .process(lineage: ["/app", "/usr/bin/evil"]), instanceID: "\(image)-i1", at: 1),
                               AcceptedAnomaly(anomalyID: "made-up", node: .process(lineage: ["/app", "/usr/bin/evil2"]), instanceID: "x", at: 1)]
            _ = try await producer.sendAll([KafkaRecord(topic: topic, key: image, value: Array(try JSONEncoder().encode(forged)),
                                                        headers: [KafkaHeader(WireHeaders.kind, WireHeaders.clockTickKind)])])
            try await runMerger(topic: topic, group: group, expected: first + 1, maxBatch: 5, client: client, producer: producer)
            let afterForgery = try await client.query("""
                SELECT node_key FROM profile_nodes WHERE profile_key = \(image) AND event_type = 'exec'
                """).decode(String.self).reduce(into: Set<String>()) { $0.insert($1) }
            #expect(afterForgery == ["/app", "/app > /bin/sh"])
            #expect(try await AnomalyDecisions(client: client, logger: TestStack.logger).get(id).learnedAt == nil)

            let decided = try await AnomalyDecisions(client: client, logger: TestStack.logger).decide(id, .accepted, by: "alice")
            #expect(decided.status == "accepted" && decided.decidedBy == "alice" && decided.learnedAt == nil)

            let relay = AcceptedAnomalyRelay(store: ProfileStore(client: client), producer: producer, topic: topic, logger: logger)
            // Only this test's profile: other tests accept anomalies in the shared test database.
            #expect(try await relay.relay(profiles: [image]) == 1)
            let sent = try await client.query("SELECT learn_sent_at IS NOT NULL FROM anomalies WHERE anomaly_id = \(id)")
                .decode(Bool.self).reduce(into: [Bool]()) { $0.append($1) }
            #expect(sent == [true])
            #expect(try await relay.relay(profiles: [image]) == 0, "sent once until the resend delay")
            // Later: nc again from another established instance (learned now), and an unknown binary (still an anomaly).
            let later = [request(image, dump: "\(image)-again", instance: "\(image)-i2", at: 420, children: ["/usr/bin/nc"], files: ["/etc/app.conf"]),
                         request(image, dump: "\(image)-other", instance: "\(image)-i2", at: 421, children: ["/usr/bin/socat"], files: ["/etc/app.conf"])]
            try await produce(later, to: topic, producer: producer)
            try await runMerger(topic: topic, group: group, expected: first + 2 + Int64(later.count), maxBatch: 5, client: client,
                                producer: producer)
            let nodes = try await client.query("""
                SELECT node_key FROM profile_nodes WHERE profile_key = \(image) AND event_type = 'exec'
                """).decode(String.self).reduce(into: Set<String>()) { $0.insert($1) }
            #expect(nodes == ["/app", "/app > /bin/sh", "/app > /usr/bin/nc"])
            let anomalies = try await client.query("""
                SELECT node_key, status FROM anomalies WHERE profile_key = \(image) ORDER BY recorded_at, node_key
                """).decode((String, String).self).reduce(into: [String]()) { $0.append("\($1.0) \($1.1)") }
            #expect(anomalies == ["/app > /usr/bin/nc accepted", "/app > /usr/bin/socat pending"])
            let learned = try await AnomalyDecisions(client: client, logger: TestStack.logger).get(id)
            #expect(learned.learnedAt != nil)
            #expect(try await relay.relay(profiles: [image]) == 0, "a learned anomaly is not sent again")
        }
    }

    /// Attack shapes on the internal topic: a tick from the far future must not date a version's
    /// stability beyond every dump (nothing would ever freeze), and a request keyed otherwise than
    /// by its profile (it could be merged beside the profile's owner) is dead-lettered, not merged.
    @Test func farFutureTicksAndWronglyKeyedRequestsAreRefused() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        let requests = Array(workload(image).prefix(3))
        try await produce(requests, to: topic, producer: producer)
        let tick = ClockTick(profileKey: image, imageTag: "v1", at: Int64.max / 2)
        let stray = request(image, dump: "\(image)-stray", instance: "\(image)-i9", at: 300, children: ["/usr/bin/stray"])
        _ = try await producer.sendAll([
            KafkaRecord(topic: topic, key: image, value: Array(try JSONEncoder().encode(tick)), headers: [KafkaHeader(WireHeaders.kind, WireHeaders.clockTickKind)]),
            KafkaRecord(topic: topic, key: "another-profile", value: Array(try JSONEncoder().encode(stray))),
        ])
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await runMerger(topic: topic, group: TestStack.unique("g"), expected: Int64(requests.count + 2), maxBatch: 2, client: client,
                                producer: producer)
            let now = Int64(Date().timeIntervalSince1970 * 1e9) + 3600 * 1_000_000_000
            let latest = try await client.query("""
                SELECT coalesce(max(at_ns), 0)::int8, coalesce((SELECT max(stable_since_ns) FROM profile_event_types WHERE profile_key = \(image)), 0)::int8
                FROM state_transitions WHERE profile_key = \(image)
                """).decode((Int64, Int64).self).reduce(into: [(Int64, Int64)]()) { $0.append($1) }
            #expect(latest.first.map { $0.0 <= now && $0.1 <= now } == true, "no transition or stability dated in the far future: \(latest)")
            let stray = try await client.query("SELECT count(*) FROM merged_dumps WHERE dump_id = \(image + "-stray")").decode(Int64.self)
                .reduce(into: [Int64]()) { $0.append($1) }
            #expect(stray == [0])
        }
        let dead = try await TestStack.collect(Topics.profileMergeRequestsDLQ, count: 1) { $0.keyString == "another-profile" && String(decoding: $0.value, as: UTF8.self).contains(image) }
        #expect(dead.first?.header(WireHeaders.errorCode)?.stringValue == "wrong_partition_key")
    }

    @Test func perProfileOverridesAndTimeToStableEstimates() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await produce(workload(image), to: topic, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await client.query("INSERT INTO profile_overrides (profile_key, min_dumps) VALUES (\(image), 1000)")
            try await runMerger(topic: topic, group: TestStack.unique("g"), expected: 12, maxBatch: 4, client: client, producer: producer)
            let transitions = try await client.query(
                "SELECT count(*)::int8 FROM state_transitions WHERE profile_key = \(image) AND to_state = 'stable'"
            ).decode(Int64.self).reduce(into: 0) { $0 += $1 }
            #expect(transitions == 0)  // the override holds the profile in learning
            let rows = try await client.query("""
                SELECT state, dumps_to_stable, eta_seconds FROM profile_event_types WHERE profile_key = \(image) AND event_type = 'exec'
                """).decode((String, Int32?, Int64?).self).reduce(into: []) { $0.append($1) }
            #expect(rows.first?.0 == "learning")
            #expect(rows.first?.1.flatMap { $0 }.map(Int.init) == 988)  // min_dumps (1000) − 12 merged dominates the coverage target
            #expect((rows.first?.2 ?? 0) > 0)
            let warm = try await client.query(
                "SELECT count(*)::int8 FROM merged_dumps WHERE profile_key = \(image) AND warming_up"
            ).decode(Int64.self).reduce(into: 0) { $0 += $1 }
            #expect(warm == 5)  // each instance's first dump
        }
    }

    @Test func anomaliesAreRateLimitedPerInstanceAndTheOutboxIsDrainedAtStart() async throws {
        try TestStack.requireKafka()
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let image = TestStack.unique("img")
        var requests = workload(image)
        for (i, binary) in ["/usr/bin/nc", "/usr/bin/wget", "/usr/bin/socat"].enumerated() {
            requests.append(request(image, dump: "\(image)-late\(i)", instance: "\(image)-i1", at: 400 + Int64(i) / 2,
                                    children: [binary], files: ["/etc/app.conf"]))
        }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await produce(requests, to: topic, producer: producer)
        let total = Int64(requests.count)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: total, maxBatch: 50, client: client,
                                         producer: producer, anomalyLimit: AnomalyRateLimiter(limit: 1, window: 3600 * Self.second))
            let rows = try await client.query("""
                SELECT published, rate_limited FROM anomalies WHERE profile_key = \(image)
                """).decode((Bool, Bool).self).reduce(into: []) { $0.append($1) }
            #expect(rows.count == 3)  // every anomaly is stored …
            #expect(rows.filter { $0.0 }.count == 1)  // … one is published in the window …
            #expect(rows.filter { $0.1 }.count == 2)  // … the others are marked rate-limited

            // An anomaly committed but never published (a crash between commit and publish) goes out at the next start.
            let orphan = "\(image)|v1|exec:/app > /bin/orphan|\(image)-x"
            try await client.query("""
                INSERT INTO anomalies (anomaly_id, profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns, recorded_at)
                VALUES (\(orphan), \(image), 'v1', 'exec', '/app > /bin/orphan', \(image + "-x"), \(image + "-i2"), 1,
                        now() - interval '1 hour')
                """)
            let store = ProfileStore(client: client)
            let stage = ProfileMergeStage(
                consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("g"), topics: [topic], logger: logger),
                producer: producer, store: store, cache: VersionCache(capacity: 1), logger: logger)
            var published = false
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await stage.run() }
                defer { group.cancelAll() }
                let deadline = ContinuousClock.now + .seconds(15)
                while !published && ContinuousClock.now < deadline {
                    for try await p in try await client.query("SELECT published FROM anomalies WHERE anomaly_id = \(orphan)")
                        .decode(Bool.self) { published = p }
                    if !published { try await Task.sleep(for: .milliseconds(100)) }
                }
            }
            #expect(published)
        }
        // At-least-once on the topic (every starting merger drains the outbox, so the orphan may go out
        // twice when mergers start together): compare distinct anomaly ids.
        let events = try await TestStack.collect(Topics.securityAnomalies, count: 3, timeout: .seconds(5)) { $0.keyString == image }
        let ids = Set(events.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.value)) as? [String: Any])?["anomaly_id"] as? String })
        #expect(ids == ["\(image)|v1|exec:/app > /usr/bin/nc|\(image)-late0", "\(image)|v1|exec:/app > /bin/orphan|\(image)-x"])
    }
}
