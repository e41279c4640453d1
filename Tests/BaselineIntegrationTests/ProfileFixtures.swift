import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import Foundation
import PostgresNIO
import Testing

/// Builds profiles for integration tests: merge requests for a workload and an in-process merger.
struct ProfileFixtures {
    let logger = TestStack.logger
    static let second: Int64 = 1_000_000_000

    func request(_ image: String, dump id: String, instance: String, at minute: Int64, children: [String] = [],
                 files: [String] = []) -> MergeRequest {
        let start = 1_764_400_000 * ProfileFixtures.second + minute * 60 * ProfileFixtures.second
        let dump = ActivityDump(id: id, workload: Workload(imageName: image, imageTag: "v1", containerID: instance),
                                start: start, end: start + 30 * ProfileFixtures.second,
                                processes: [ProcessNode(path: "/app", files: files.map { FileAccess(path: $0) },
                                                        children: children.map { ProcessNode(path: $0) })])
        return MergeRequest(dumpID: id, sourceFormat: "baseline-json", receivedAt: start, dump: dump)
    }

    /// Instances <image>-i0…i4, each dump at a later minute; /tmp/sess-<n> files exercise pattern mining.
    func workload(_ image: String) -> [MergeRequest] {
        (0..<12).map { n in
            request(image, dump: "\(image)-d\(n)", instance: "\(image)-i\(n % 5)", at: Int64(n) * 20, children: n % 3 == 0 ? ["/bin/sh"] : [],
                    files: ["/etc/app.conf", "/tmp/sess-\(n)a\(n)"])
        }
    }

    func produce(_ requests: [MergeRequest], to topic: String, producer: KafkaProducer) async throws {
        let encoder = JSONEncoder()
        _ = try await producer.sendAll(try requests.map {
            KafkaRecord(topic: topic, key: $0.profileKey, value: Array(try encoder.encode($0)))
        })
    }

    var model: ModelConfiguration {
        var m = ModelConfiguration()
        m.lifecycle.minDumps = 8
        m.lifecycle.minInstances = 3
        m.lifecycle.maxNovelty = 0.5
        m.lifecycle.minQuietPeriod = 30 * 60 * ProfileFixtures.second
        m.warmupPeriod = 60 * ProfileFixtures.second
        m.miner = PatternMiner(threshold: 4)
        return m
    }

    /// Runs a merger on `topic` with `group` until it stored (PostgreSQL) and committed (Kafka)
    /// offsets covering `expected` messages, i.e. its last batch is completely done.
    func runMerger(topic: String, group: String, expected: Int64, maxBatch: Int, client: PostgresClient,
                   producer: KafkaProducer, anomalyLimit: AnomalyRateLimiter = AnomalyRateLimiter(), maxVersions: Int = 20,
                   model: ModelConfiguration? = nil, requestLimits: MergeRequestLimits? = MergeRequestLimits()) async throws {
        let store = ProfileStore(client: client)
        let cache = VersionCache(capacity: 10)
        // As profile-merger wires it: stored offsets checked against the partition's log.
        let reference = ConsumerReference()
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic],
                                         onAssign: ProfileMergeStage.storedOffsets(store: store, group: group, cache: cache,
                                                                                   bounds: reference,
                                                                                   logger: logger),
                                         logger: logger)
        reference.set(consumer)
        let stage = ProfileMergeStage(
            consumer: consumer,
            producer: producer, store: store, cache: cache, model: model ?? self.model, anomalyLimit: anomalyLimit, consumerGroup: group,
            maxBatch: maxBatch, maxVersions: maxVersions, requestLimits: requestLimits, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await stage.run() }
            defer { tasks.cancelAll() }
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                var total: Int64 = 0
                for try await n in try await client.query(
                    "SELECT coalesce(sum(next_offset), 0)::int8 FROM consumer_offsets WHERE consumer_group = \(group)"
                ).decode(Int64.self) { total = n }
                // The Kafka commit comes last in a batch (after publishing and marking anomalies):
                // waiting for it too means the last batch is completely done.
                if total >= expected {
                    let partitions = (0..<8).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
                    let committed = (try? await consumer.committed(partitions))?.values.reduce(0, +) ?? 0
                    if committed >= expected { return }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("merger did not reach \(expected) messages in time")
        }
    }


    /// Produces `requests` to a fresh topic, merges them with the in-process merger into the test
    /// database, then runs `body` with the database client.
    func withMergedProfile(_ requests: [MergeRequest], producer: KafkaProducer,
                           _ body: @Sendable @escaping (PostgresClient) async throws -> Void) async throws {
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await produce(requests, to: topic, producer: producer)
        let count = Int64(requests.count)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await runMerger(topic: topic, group: TestStack.unique("g"), expected: count, maxBatch: 50, client: client, producer: producer)
            try await body(client)
        }
    }

    /// Everything stored about a profile, as comparable text (wall-clock columns excluded).
    func snapshot(_ image: String, client: PostgresClient) async throws -> [String] {
        var rows: [String] = []
        for try await r in try await client.query("""
            SELECT image_tag || ' ' || dumps_merged || ' ' || instances || ' ' || nodes || ' ' || round(commonality::numeric, 6) || ' ' || state
            FROM profile_versions WHERE profile_key = \(image)
            """).decode(String.self) { rows.append("version " + r) }
        for try await r in try await client.query("""
            SELECT event_type || ' ' || node_key || ' ' || dumps || ' ' || instances || ' ' || instance_ordinals::text || ' '
                   || first_seen_ns || ' ' || last_seen_ns
            FROM profile_nodes WHERE profile_key = \(image) ORDER BY event_type, node_key
            """).decode(String.self) { rows.append("node " + r) }
        for try await r in try await client.query("""
            SELECT event_type || ' ' || state || ' ' || nodes || ' ' || q1 || ' ' || q2 || ' ' || incidences || ' ' || round(coverage::numeric, 6)
                   || ' ' || learning_since_ns || ' ' || last_new_node_ns
            FROM profile_event_types WHERE profile_key = \(image) ORDER BY event_type
            """).decode(String.self) { rows.append("type " + r) }
        for try await r in try await client.query("""
            SELECT event_type || ' ' || from_state || '>' || to_state || ' ' || at_ns || ' ' || dump_id || ' ' || evidence::text
            FROM state_transitions WHERE profile_key = \(image) ORDER BY at_ns, event_type
            """).decode(String.self) { rows.append("transition " + r) }
        for try await r in try await client.query("""
            SELECT anomaly_id || ' ' || status FROM anomalies WHERE profile_key = \(image) ORDER BY anomaly_id
            """).decode(String.self) { rows.append("anomaly " + r) }
        for try await r in try await client.query("""
            SELECT dump_id || ' ' || instance_id || ' ' || new_nodes FROM merged_dumps WHERE profile_key = \(image) ORDER BY dump_id
            """).decode(String.self) { rows.append("dump " + r) }
        return rows
    }
}
