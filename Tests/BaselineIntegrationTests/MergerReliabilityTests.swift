import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import Testing

/// profile-merger under input PostgreSQL refuses and against a member that lost its partition.
@Suite struct MergerReliabilityTests {
    let logger = TestStack.logger
    let fixtures = ProfileFixtures()

    func count(_ sql: PostgresQuery, _ client: PostgresClient) async throws -> Int64 {
        var n: Int64 = -1
        for try await v in try await client.query(sql).decode(Int64.self) { n = v }
        return n
    }

    @Test func aMessagePostgreSQLRefusesIsDeadLetteredAndThePartitionMovesOn() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("poison")
        let good1 = fixtures.request(image, dump: "\(image)-d0", instance: "\(image)-i0", at: 0, files: ["/etc/a"])
        // A NUL byte: JSON carries it, PostgreSQL text cannot (SQLSTATE 22021). dump-consumer rejects it
        // at the edge and the merger again when it reads it (MergerEdgeLimitTests); with that check
        // off, as for whatever else might get past it, the merge must not stall the merger.
        let poison = fixtures.request(image, dump: "\(image)-d1", instance: "\(image)-i1", at: 1, files: ["/etc/b\u{0}c"])
        let good2 = fixtures.request(image, dump: "\(image)-d2", instance: "\(image)-i2", at: 2, files: ["/etc/a"])
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1), (Topics.profileMergeRequestsDLQ, 4)])
        try await fixtures.produce([good1, poison, good2], to: topic, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: 3, maxBatch: 10, client: client, producer: producer,
                                         requestLimits: nil)
            #expect(try await count("SELECT count(*) FROM merged_dumps WHERE profile_key = \(image)", client) == 2)
            #expect(try await count("SELECT dumps_merged FROM profile_versions WHERE profile_key = \(image)", client) == 2)
        }
        let dead = try await TestStack.collect(Topics.profileMergeRequestsDLQ, count: 1) {
            $0.header(WireHeaders.sourceTopic)?.stringValue == topic
        }
        #expect(dead.count == 1)
        #expect(dead.first?.header(WireHeaders.errorCode)?.stringValue == "merge_failed")
        #expect(dead.first?.header(WireHeaders.errorReason)?.stringValue?.contains("22021") == true)
        #expect(dead.first?.header(WireHeaders.sourceOffset)?.stringValue == "1")
    }

    @Test func aStoredOffsetPastARecreatedTopicsEndIsResetAndTheLogReRead() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("recreated")
        let requests = (0..<3).map { fixtures.request(image, dump: "\(image)-d\($0)", instance: "\(image)-i\($0)", at: Int64($0)) }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await fixtures.produce(requests, to: topic, producer: producer)
        let group = TestStack.unique("g")
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            // Offsets stored against an earlier life of the topic (a broker without persistence restarted).
            try await ProfileStore(client: client).storeOffsets([StoredOffset(topic: topic, partition: 0, nextOffset: 50)], firsts: [],
                                                                 group: group, logger: logger)
            try await fixtures.runMerger(topic: topic, group: group, expected: 3, maxBatch: 10, client: client, producer: producer)
            #expect(try await count("SELECT count(*) FROM merged_dumps WHERE profile_key = \(image)", client) == 3)
            #expect(try await count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = \(group) AND topic = \(topic)", client) == 3)
        }
    }

    /// The start offsets of a partition whose stored offset is exactly the log's end, produced in
    /// batches of several records (ListOffsets on Tansu then answers less than the end): the stored
    /// offset is kept, never moved back to re-read the log.
    @Test func aStoredOffsetAtTheLogsEndIsKeptWhateverListOffsetsSays() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("logend")
        let requests = (0..<8).map { fixtures.request(image, dump: "\(image)-d\($0)", instance: "\(image)-i\($0)", at: Int64($0)) }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await fixtures.produce(Array(requests[0..<4]), to: topic, producer: producer)
        try await fixtures.produce(Array(requests[4..<8]), to: topic, producer: producer)
        let group = TestStack.unique("g")
        let tp = KafkaTopicPartition(topic: topic, partition: 0)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: group, expected: 8, maxBatch: 10, client: client, producer: producer)
            let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("probe"), topics: [topic], logger: logger)
            let listedEnd = try await consumer.watermarks(tp).high
            let start = try await ProfileMergeStage.storedOffsets(store: ProfileStore(client: client), group: group, bounds: consumer,
                                                                  logger: logger)([tp])
            await consumer.close()
            #expect(listedEnd <= 8)
            #expect(start == [tp: 8])
            #expect(try await count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = \(group) AND topic = \(topic)", client) == 8)
        }
    }

    @Test func aMemberThatLostItsPartitionCannotWriteOverTheNewOwner() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("fenced")
        let requests = (0..<4).map { fixtures.request(image, dump: "\(image)-d\($0)", instance: "\(image)-i\($0)", at: Int64($0), files: ["/etc/a"]) }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await fixtures.produce(requests, to: topic, producer: producer)
        let group = TestStack.unique("g")
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            // The new owner merged everything: offset 4 is stored.
            try await fixtures.runMerger(topic: topic, group: group, expected: 4, maxBatch: 10, client: client, producer: producer)
            let before = try await count("SELECT sum(dumps)::int8 FROM profile_nodes WHERE profile_key = \(image)", client)

            // A slow member still holds a batch that started at offset 0, with a dump the owner never saw.
            let stale = fixtures.request(image, dump: "\(image)-stale", instance: "\(image)-zombie", at: 0, files: ["/etc/zombie"])
            let store = ProfileStore(client: client)
            let stage = ProfileMergeStage(
                consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("zombie"), topics: [topic], logger: logger),
                producer: producer, store: store, cache: VersionCache(capacity: 10), model: fixtures.model, consumerGroup: group, logger: logger)
            let message = KafkaMessage(topic: topic, partition: 0, offset: 0, key: Array(image.utf8),
                                       value: Array(try JSONEncoder().encode(stale)))
            await #expect(throws: FencedBatch.self) {
                _ = try await stage.merge([(.dump(stale), message)], offsets: [StoredOffset(topic: topic, partition: 0, nextOffset: 1)],
                                          firsts: [StoredOffset(topic: topic, partition: 0, nextOffset: 0)])
            }
            // Nothing it computed was written, and the stored offset did not move back.
            #expect(try await count("SELECT sum(dumps)::int8 FROM profile_nodes WHERE profile_key = \(image)", client) == before)
            #expect(try await count("SELECT count(*) FROM profile_nodes WHERE profile_key = \(image) AND node_key LIKE '%zombie%'", client) == 0)
            #expect(try await count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = \(group) AND topic = \(topic)", client) == 4)
            // Offsets only move forward even when written directly.
            try await store.storeOffsets([StoredOffset(topic: topic, partition: 0, nextOffset: 2)], firsts: [], group: group, logger: logger)
            #expect(try await count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = \(group) AND topic = \(topic)", client) == 4)
        }
    }

    /// Two members writing a partition's first batch at the same time (no stored offset to lock yet):
    /// the new owner's transaction has written 2 dumps' statistics and not committed; the stale
    /// member, holding 1 dump, writes next. It must wait, then be refused, not overwrite.
    @Test func twoFirstBatchesOfAPartitionCannotBothWrite() async throws {
        let image = TestStack.unique("first")
        let group = TestStack.unique("g"), topic = TestStack.unique("merge")
        func batch(dumps: Int, next: Int64) -> ProfileBatch {
            var version = ProfileVersion(profileKey: image, imageTag: "v1")
            for n in 0..<dumps {
                version.merge(ActivityDump(workload: Workload(imageName: image, imageTag: "v1", containerID: "\(image)-i\(n)"),
                                           processes: [ProcessNode(path: "/app", files: [FileAccess(path: "/etc/a")])]), at: Int64(n + 1))
            }
            var b = ProfileBatch()
            b.versions = [.init(state: VersionState(version: version), touched: Set(version.nodes.keys), removed: [],
                                instances: InstanceSet(0..<Int32(dumps)))]
            b.offsets = [StoredOffset(topic: topic, partition: 0, nextOffset: next)]
            b.firstOffsets = [StoredOffset(topic: topic, partition: 0, nextOffset: 0)]
            return b
        }
        let ownerBatch = batch(dumps: 2, next: 8), staleBatch = batch(dumps: 1, next: 4)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let written = MergerFencingTests.Flag(), commit = MergerFencingTests.Flag()
            let owner = Task {
                try await client.withTransaction(logger: logger) { conn in
                    _ = try await ProfileStore.write(ownerBatch, group: group, conn: conn, logger: logger)
                    written.set()
                    while !commit.isSet { try await Task.sleep(for: .milliseconds(10)) }
                }
            }
            while !written.isSet { try await Task.sleep(for: .milliseconds(10)) }
            let stalePID = MergerFencingTests.Samples<Int32>()
            let stale = Task {
                try await client.withTransaction(logger: logger) { conn in
                    for try await pid in try await conn.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) {
                        stalePID.append(pid)
                    }
                    _ = try await ProfileStore.write(staleBatch, group: group, conn: conn, logger: logger)
                }
            }
            // The stale member is waiting on the owner's lock now (not merely started).
            let deadline = ContinuousClock.now + .seconds(20)
            var waiting = false
            while !waiting && ContinuousClock.now < deadline {
                if let pid = stalePID.all.first {
                    waiting = try await count("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid) AND wait_event_type = 'Lock'", client) == 1
                }
                if !waiting { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(waiting, "the stale transaction never waited on the owner's lock")
            commit.set()
            try await owner.value
            await #expect(throws: (any Error).self) { try await stale.value }
            if case .failure(let error) = await stale.result {
                #expect(DatabaseFailure.underlying(error) is FencedBatch, "\(error)")
            }
            #expect(try await count("SELECT dumps::int8 FROM profile_nodes WHERE profile_key = \(image) AND node_key = '/app'", client) == 2)
            #expect(try await count("SELECT dumps_merged FROM profile_versions WHERE profile_key = \(image)", client) == 2)
            #expect(try await count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = \(group)", client) == 8)
        }
    }

    /// Two instances' relays draining the anomaly outbox at the same moment publish each orphaned
    /// anomaly once (one holds the lease, the other skips the round).
    @Test func twoRelaysPublishEachOrphanedAnomalyOnce() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("orphans")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        try await producer.createTopics([(Topics.securityAnomalies, 1)])
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let relays = (0..<2).map { _ in
                ProfileMergeHandler(producer: producer, store: ProfileStore(client: client), cache: VersionCache(capacity: 1),
                                    consumerGroup: TestStack.unique("g"), logger: logger)
            }
            // A round while another session holds the lease (an instance mid-drain) skips: counted, nothing published.
            let skipsBefore = OutboxLeaseSkips.total("anomaly-outbox")
            // (Checked while held: once released, any test's relay may drain these rows.)
            // The rows are written while the lease is held: no relay of a concurrent test can drain some of them first.
            let publishedWhileHeld = try await OutboxLeaseHolder.holding("anomaly-outbox", client: client) {
                // Committed an hour ago, never published (the process stopped in between).
                for n in 0..<20 {
                    try await client.query("""
                        INSERT INTO anomalies (anomaly_id, profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns, recorded_at)
                        VALUES (\("\(image)|v1|exec:/app > /bin/x\(n)|d"), \(image), 'v1', 'exec', \("/app > /bin/x\(n)"), 'd', 'i', \(Int64(n)),
                                now() - interval '1 hour')
                        """)
                }
                await relays[1].drainAnomalyOutbox()
                return try await count("SELECT count(*) FROM anomalies WHERE profile_key = \(image) AND published", client)
            }
            #expect(OutboxLeaseSkips.total("anomaly-outbox") > skipsBefore)
            #expect(publishedWhileHeld == 0)
            async let first: Void = relays[0].drainAnomalyOutbox()
            async let second: Void = relays[1].drainAnomalyOutbox()
            _ = await (first, second)
            // Another test's merger may have held the lease for that round: later rounds publish the rest.
            let deadline = ContinuousClock.now + .seconds(15)
            while try await count("SELECT count(*) FROM anomalies WHERE profile_key = \(image) AND published", client) < 20
                    && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                await relays[0].drainAnomalyOutbox()
            }
            #expect(try await count("SELECT count(*) FROM anomalies WHERE profile_key = \(image) AND published", client) == 20)
        }
        // One more than published: a duplicate ends the read early, else all of the topic has time to be read.
        let events = try await TestStack.collect(Topics.securityAnomalies, count: 21, timeout: .seconds(20)) { $0.keyString == image }
        let ids = events.compactMap { try? WireCatalog.securityAnomalies.decode($0.value).anomalyID }
        #expect(ids.count == 20 && Set(ids).count == 20, "\(ids.count) published for 20 anomalies")
    }
}
