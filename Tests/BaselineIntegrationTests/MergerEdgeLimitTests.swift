import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import Testing

/// Attack shapes against profile-merger from anything that can write to its input topic: a dump id
/// shadowing another workload's dump, records of an unknown kind, requests that break the edge
/// limits dump-consumer applies, and anomaly ids too long for an index.
@Suite struct MergerEdgeLimitTests {
    let logger = TestStack.logger
    let fixtures = ProfileFixtures()

    func value(_ sql: PostgresQuery, _ client: PostgresClient) async throws -> Int64 {
        var n: Int64 = -1
        for try await v in try await client.query(sql).decode(Int64.self) { n = v }
        return n
    }

    func record(_ request: MergeRequest, topic: String, headers: [KafkaHeader] = []) throws -> KafkaRecord {
        KafkaRecord(topic: topic, key: request.profileKey, value: Array(try JSONEncoder().encode(request)), headers: headers)
    }

    /// Dead letters of `topic` on the merger's DLQ, by source offset: (code, reason).
    func deadLetters(from topic: String, count: Int) async throws -> [String: (String, String)] {
        let dead = try await TestStack.collect(Topics.profileMergeRequestsDLQ, count: count) {
            $0.header(WireHeaders.sourceTopic)?.stringValue == topic
        }
        var out: [String: (String, String)] = [:]
        for m in dead {
            out[m.header(WireHeaders.sourceOffset)?.stringValue ?? "?"] = (m.header(WireHeaders.errorCode)?.stringValue ?? "",
                                                                           m.header(WireHeaders.errorReason)?.stringValue ?? "")
        }
        return out
    }

    /// A tenant sends, under its own workload, a dump carrying the id of a victim's next dump before
    /// the victim does: the victim's dump must still be merged (ids deduplicate within a version),
    /// while a replay of the victim's dump stays a no-op.
    @Test func aDumpIDUsedByAnotherWorkloadFirstDoesNotShadowTheRealDump() async throws {
        try TestStack.requireKafka()
        let attacker = TestStack.unique("tenant"), victim = TestStack.unique("victim")
        let id = "\(victim)-d1"
        let shadow = fixtures.request(attacker, dump: id, instance: "\(attacker)-i0", at: 0, files: ["/etc/a"])
        let real = fixtures.request(victim, dump: id, instance: "\(victim)-i0", at: 1, files: ["/etc/victim"])
        var otherTag = fixtures.request(victim, dump: id, instance: "\(victim)-i1", at: 2, files: ["/etc/v2"])
        otherTag.dump.workload.imageTag = "v2"
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        // The shadow first, then the real dump, a second version using the same id, and a replay of the real dump.
        try await fixtures.produce([shadow, real, otherTag, real], to: topic, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: 4, maxBatch: 2, client: client, producer: producer)
            #expect(try await value("SELECT count(*) FROM merged_dumps WHERE profile_key = \(attacker) AND dump_id = \(id)", client) == 1)
            #expect(try await value("SELECT count(*) FROM merged_dumps WHERE profile_key = \(victim) AND image_tag = 'v1' AND dump_id = \(id)", client) == 1)
            #expect(try await value("SELECT count(*) FROM merged_dumps WHERE profile_key = \(victim) AND image_tag = 'v2' AND dump_id = \(id)", client) == 1)
            // The replay is skipped: the victim's version counts its dump once.
            #expect(try await value("SELECT dumps_merged FROM profile_versions WHERE profile_key = \(victim) AND image_tag = 'v1'", client) == 1)
            #expect(try await value("""
                SELECT count(*) FROM profile_nodes WHERE profile_key = \(victim) AND image_tag = 'v1' AND node_key = '/app | /etc/victim'
                """, client) == 1)
            // Each row's commonality is its own version's (the update is scoped like the key).
            #expect(try await value("""
                SELECT count(*) FROM merged_dumps d JOIN profile_versions v USING (profile_key, image_tag)
                WHERE d.dump_id = \(id) AND d.version_commonality IS NOT DISTINCT FROM v.commonality
                """, client) == 3)
        }
    }

    /// v16 on a table that already holds dumps: rows kept, the new key in place, the old one gone.
    @Test func theDumpKeyMigrationKeepsExistingRows() async throws {
        let db = "baseline_mig_\(UInt32.random(in: 0 ... .max))"
        try await TestStack.withDatabase { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(db)")) }
        var config = try DatabaseConfiguration(url: TestStack.databaseURL)
        config.database = db
        let url = "postgres://\(config.username):\(config.password ?? "")@\(config.host):\(config.port)/\(db)"
        try await TestStack.withDatabase(url: url) { client in
            try await Migrator(migrations: Migrations.all.filter { $0.version < 16 }).migrate(client, logger: TestStack.logger)
            try await client.query("""
                INSERT INTO merged_dumps (dump_id, profile_key, image_tag, instance_id, source_topic, source_partition, source_offset)
                SELECT 'd' || n, 'img' || (n % 7), 'v1', 'i', 't', 0, n FROM generate_series(1, 5000) n
                """)
            #expect(try await Migrator().migrate(client, logger: TestStack.logger) == [16])
            #expect(try await value("SELECT count(*) FROM merged_dumps", client) == 5000)
            var key = ""
            for try await k in try await client.query("""
                SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'merged_dumps'::regclass AND contype = 'p'
                """).decode(String.self) { key = k }
            #expect(key == "PRIMARY KEY (profile_key, image_tag, dump_id)")
            // The same id in another version is now a row of its own; in the same version it is refused.
            try await client.query("""
                INSERT INTO merged_dumps (dump_id, profile_key, image_tag, instance_id, source_topic, source_partition, source_offset)
                VALUES ('d1', 'other', 'v1', 'i', 't', 0, 0)
                """)
            await #expect(throws: (any Error).self) {
                try await client.query("""
                    INSERT INTO merged_dumps (dump_id, profile_key, image_tag, instance_id, source_topic, source_partition, source_offset)
                    VALUES ('d1', 'img1', 'v1', 'i', 't', 0, 0)
                    """)
            }
        }
        try await TestStack.withDatabase { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(db) WITH (FORCE)")) }
    }

    /// Records of `profile-merge-requests` that break what dump-consumer enforces, written straight
    /// to the topic: each is dead-lettered with its code, the good ones around them are merged, a
    /// request from the future has its times clamped, and the partition moves on.
    @Test func requestsBreakingTheEdgeLimitsAreDeadLetteredByTheMerger() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("edge")
        let good = fixtures.request(image, dump: "\(image)-good", instance: "\(image)-i0", at: 0, files: ["/etc/a"])
        let nul = fixtures.request(image, dump: "\(image)-nul", instance: "\(image)-i1", at: 1, files: ["/etc/b\u{0}c"])
        var deep = fixtures.request(image, dump: "\(image)-deep", instance: "\(image)-i2", at: 2)
        var chain = ProcessNode(path: "/bin/p0")
        for level in 1..<80 { chain = ProcessNode(path: "/bin/p\(level)", children: [chain]) }
        deep.dump.processes = [chain]
        var longKey = fixtures.request(image, dump: "\(image)-long", instance: "\(image)-i3", at: 3)
        longKey.dump.processes = (0..<3).map { n in ProcessNode(path: "/app\(n)", files: [FileAccess(path: "/" + String(repeating: "x", count: 2_100))]) }
        var longID = fixtures.request(image, dump: String(repeating: "i", count: 300), instance: "\(image)-i4", at: 4)
        longID.dumpID = String(repeating: "i", count: 300)
        var emptyTree = fixtures.request(image, dump: "\(image)-empty", instance: "\(image)-i5", at: 5)
        emptyTree.dump.processes = []
        var schema = fixtures.request(image, dump: "\(image)-schema", instance: "\(image)-i6", at: 6)
        schema.schema = "baseline.merge-request/v9"
        // Dump times and receivedAt ten days ahead of the record: clamped to the record time, still merged.
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        var future = fixtures.request(image, dump: "\(image)-future", instance: "\(image)-i7", at: 7, files: ["/etc/a"])
        future.dump.start = now + 10 * 86_400 * 1_000_000_000
        future.dump.end = future.dump.start! + 1_000_000_000
        future.receivedAt = future.dump.end!
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1), (Topics.profileMergeRequestsDLQ, 4)])
        _ = try await producer.sendAll([
            try record(good, topic: topic), try record(nul, topic: topic), try record(deep, topic: topic), try record(longKey, topic: topic),
            try record(longID, topic: topic), try record(emptyTree, topic: topic), try record(schema, topic: topic),
            try record(future, topic: topic),
        ])
        // The record time is the producer's clock when it sent them: before this.
        let sent = Int64(Date().timeIntervalSince1970 * 1000) + 1
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: 8, maxBatch: 10, client: client, producer: producer)
            var merged: [String] = []
            for try await id in try await client.query("SELECT dump_id FROM merged_dumps WHERE profile_key = \(image) ORDER BY dump_id")
                .decode(String.self) { merged.append(id) }
            #expect(merged == ["\(image)-future", "\(image)-good"])
            // Clamped to the record time: no instance is seen in the future.
            #expect(try await value("SELECT max(last_seen_ns) FROM profile_instances WHERE profile_key = \(image)", client)
                    <= sent * 1_000_000)
        }
        let dead = try await deadLetters(from: topic, count: 6)
        #expect(dead["1"]?.0 == "invalid_string")
        #expect(dead["2"]?.0 == "too_deep")
        #expect(dead["3"]?.0 == "node_key_too_long")
        #expect(dead["4"]?.0 == "identifier_too_long")
        #expect(dead["5"]?.0 == "empty_tree")
        #expect(dead["6"]?.0 == "unsupported_schema")
        #expect(dead["0"] == nil && dead["7"] == nil)
    }

    /// A record claiming a kind this merger does not know is dead-lettered (`unknown_kind`), never
    /// merged as the dump its value happens to decode as; so is one with two kinds.
    @Test func aRecordOfAnUnknownKindIsDeadLetteredNotMergedAsADump() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("kind")
        let first = fixtures.request(image, dump: "\(image)-d0", instance: "\(image)-i0", at: 0, files: ["/etc/a"])
        let unknown = fixtures.request(image, dump: "\(image)-d1", instance: "\(image)-i1", at: 1, files: ["/etc/b"])
        let twoKinds = fixtures.request(image, dump: "\(image)-d2", instance: "\(image)-i2", at: 2, files: ["/etc/c"])
        let last = fixtures.request(image, dump: "\(image)-d3", instance: "\(image)-i3", at: 3, files: ["/etc/a"])
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1), (Topics.profileMergeRequestsDLQ, 4)])
        _ = try await producer.sendAll([
            try record(first, topic: topic),
            try record(unknown, topic: topic, headers: [KafkaHeader(WireHeaders.kind, "merge-request/v2")]),
            try record(twoKinds, topic: topic, headers: [KafkaHeader(WireHeaders.kind, WireHeaders.clockTickKind), KafkaHeader(WireHeaders.kind, "x")]),
            try record(last, topic: topic),
        ])
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: 4, maxBatch: 10, client: client, producer: producer)
            #expect(try await value("SELECT dumps_merged FROM profile_versions WHERE profile_key = \(image)", client) == 2)
            #expect(try await value("SELECT count(*) FROM profile_nodes WHERE profile_key = \(image) AND node_key IN ('/app | /etc/b', '/app | /etc/c')", client) == 0)
        }
        let dead = try await deadLetters(from: topic, count: 2)
        #expect(dead["1"]?.0 == "unknown_kind")
        #expect(dead["1"]?.1.contains("merge-request/v2") == true)
        #expect(dead["2"]?.0 == "unknown_kind")
    }

    /// dump-consumer: `activity-dumps` carries dumps only; a record with a `baseline-kind` header is
    /// dead-lettered as `unknown_kind`, not decoded as a dump (even when its value is one).
    @Test func aDumpWithABaselineKindHeaderIsDeadLetteredByDumpConsumer() throws {
        let dump = ActivityDump(id: "k-1", workload: Workload(imageName: "app", containerID: "c1"), processes: [ProcessNode(path: "/app")])
        let value = Array(try JSONEncoder().encode(dump))
        let ingestor = DumpIngestor(logger: logger)
        let plain = ingestor.transform(KafkaMessage(topic: Topics.activityDumps, partition: 0, offset: 0, key: nil, value: value))
        #expect(plain.topic == Topics.profileMergeRequests)
        for kind in [WireHeaders.clockTickKind, "merge-request/v2"] {
            let out = ingestor.transform(KafkaMessage(topic: Topics.activityDumps, partition: 0, offset: 1, key: nil, value: value,
                                                      headers: [KafkaHeader(WireHeaders.kind, kind)]))
            #expect(out.topic == Topics.activityDumpsDLQ)
            #expect(out.headers.last { $0.name == WireHeaders.errorCode }?.stringValue == "unknown_kind")
        }
    }

    /// An anomaly whose natural id would exceed what a B-tree index entry holds (node key at its
    /// limit, profile key, tag and dump id at theirs, incompressible) is stored as one row: the
    /// batch is not refused and isolated.
    @Test func anAnomalyOnAnOverlongNodeIsStored() async throws {
        var rng = SystemRandomNumberGenerator()
        func noise(_ n: Int) -> String { String((0..<n).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &rng)! }) }
        let key = TestStack.unique("anom") + noise(230), tag = noise(256), dump = noise(256)
        let node = ProfileNodeKey(type: .file, value: "/app | /" + noise(1_990))
        let anomaly = Anomaly(profileKey: key, imageTag: tag, node: node, dumpID: dump, instanceID: "i0", at: 1)
        let natural = "\(key)|\(tag)|\(node)|\(dump)"
        #expect(natural.utf8.count > 2_704)  // the shape PostgreSQL would refuse in an index
        #expect(anomaly.id.utf8.count <= AnomalyID.maxNaturalBytes + 80)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            var batch = ProfileBatch()
            batch.anomalies = [anomaly]
            try await client.withTransaction(logger: logger) { conn in
                _ = try await ProfileStore.write(batch, group: "g", conn: conn, logger: logger)
            }
            #expect(try await value("SELECT count(*) FROM anomalies WHERE anomaly_id = \(anomaly.id) AND node_key = \(node.value)", client) == 1)
            // A replay of the same anomaly keeps one row (the id is stable).
            try await client.withTransaction(logger: logger) { conn in
                _ = try await ProfileStore.write(batch, group: "g", conn: conn, logger: logger)
            }
            #expect(try await value("SELECT count(*) FROM anomalies WHERE profile_key = \(key)", client) == 1)
        }
    }
}
