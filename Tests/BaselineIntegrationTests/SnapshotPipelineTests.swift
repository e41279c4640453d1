import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineSnapshot
import BaselineWire
import Foundation
import PostgresNIO
import ServiceLifecycle
import Testing

/// `baseline snapshot` end to end: repeated snapshots of a process tree the test starts go through
/// the real dump-consumer and profile-merger stages (the local broker and PostgreSQL) until the
/// workload's profile has merged every one, and the profile holds exactly the tree's behaviour,
/// learned from snapshots that count as no lifecycle evidence.
@Suite struct SnapshotPipelineTests {
    let logger = TestStack.logger
    let fixtures = ProfileFixtures()

    @Test func repeatedSnapshotsMergeIntoTheWorkloadsProfile() async throws {
        try TestStack.requireKafka()
        let workload = try SnapshotWorkload()
        defer { workload.stop() }
        let image = TestStack.unique("snapshot")
        let snapshotter = Snapshotter(grouping: WorkloadGrouping(selector: .pid(workload.shellPID),
                                                                 naming: WorkloadNaming(image: image, tag: "1")))
        // Four snapshots (each its own dump id), one of them in Datadog's shape.
        var taken: [SnapshotDump] = []
        for _ in 0..<4 {
            let out = try snapshotter.snapshot(clock: { Timestamps.nanoseconds(Date()) ?? 0 })
            taken += out.dumps
            try await Task.sleep(for: .milliseconds(20))
        }
        let dumps = taken
        #expect(dumps.count == 4 && Set(dumps.map(\.id)).count == 4)
        let payloads = try dumps.enumerated().map { index, dump in
            try (index == 2 ? SnapshotFormat.datadog : .baseline).encode(dump)
        }

        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let input = TestStack.unique("snapshot-dumps"), merge = TestStack.unique("snapshot-merge")
        try await producer.createTopics([(input, 1), (merge, 1)] + Topics.all.map { ($0, 4) })
        _ = try await producer.sendAll(payloads.map { KafkaRecord(topic: input, key: image, value: $0) })

        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let ingest = DumpIngestor(outputTopic: merge, logger: logger)
            let dumpConsumer = TransformStage(
                name: "dump-consumer",
                consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("dc"), topics: [input], logger: logger),
                producer: producer, logger: logger) { ingest.transform($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await dumpConsumer.run() }
                defer { group.cancelAll() }
                // The real merger with the default model, until it stored and committed all four.
                try await fixtures.runMerger(topic: merge, group: TestStack.unique("merger"), expected: 4, maxBatch: 50,
                                             client: client, producer: producer, model: ModelConfiguration())
            }

            let merged = try await client.query("""
                SELECT dump_id, instance_id FROM merged_dumps WHERE profile_key = \(image) ORDER BY dump_id
                """).decode((String, String).self).reduce(into: [(String, String)]()) { $0.append($1) }
            #expect(merged.map(\.0) == dumps.map(\.id).sorted())
            #expect(Set(merged.map(\.1)) == [dumps[0].workload.instanceID])
            let version = try await client.query("""
                SELECT image_tag, dumps_merged, instances FROM profile_versions WHERE profile_key = \(image)
                """).decode((String, Int64, Int64).self).reduce(into: [(String, Int64, Int64)]()) { $0.append($1) }
            // Snapshots are learned but are no lifecycle evidence (docs/model.md, Snapshots): merged
            // (all four recorded above), yet no sampling unit, so the version counts no dump.
            #expect(version.count == 1 && version.first?.0 == "1" && version.first?.1 == 0 && version.first?.2 == 1)

            // Exactly the tree's behaviour, each node learned once (a snapshot confirms nothing a
            // snapshot already taught, so they stay singletons until a runtime dump shows them): the lineage
            // sh > python3 > sleep, its files (reduced as at merge: /proc/<pid>/ is /proc/self/)
            // and its listening sockets; keys built from what the test set up, not from /proc.
            var expected = ActivityDump(workload: Workload(imageName: image), processes: workload.expectedProcesses())
            expected = DumpNormalizer().normalize(expected)
            let expectedKeys = Set(ProfileNodeKey.nodes(of: expected).keys.map { "\($0.type.rawValue) \($0.value)" })
            let nodes = try await client.query("""
                SELECT event_type, node_key, dumps FROM profile_nodes WHERE profile_key = \(image)
                """).decode((String, String, Int64).self).reduce(into: [(String, String, Int64)]()) { $0.append($1) }
            #expect(Set(nodes.map { "\($0.0) \($0.1)" }) == expectedKeys)
            #expect(nodes.allSatisfy { $0.2 == 1 })
            #expect(nodes.filter { $0.0 == "exec" }.count == 4)  // sh, sh > python3, sh > python3 > sleep, sh > sleep
            #expect(nodes.filter { $0.0 == "network" }.count == 3)
            #expect(nodes.contains { $0.0 == "file" && $0.1.hasSuffix(" | /proc/self/status") })
        }
        // Nothing was dead-lettered on the way.
        let dead = try await TestStack.collect(Topics.activityDumpsDLQ, count: 1, timeout: .seconds(2)) { $0.keyString == image }
        #expect(dead.isEmpty)
    }
}
