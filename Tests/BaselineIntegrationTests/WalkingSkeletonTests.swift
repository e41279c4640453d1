import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import ServiceLifecycle
import Testing

/// The three stages in-process against the real broker and database: a dump travels
/// activity-dumps -> profile-merge-requests -> PostgreSQL, a signal comes out enriched.
@Suite struct WalkingSkeletonTests {
    let logger = TestStack.logger

    @Test func dumpIsMergedAndSignalIsEnriched() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("img")
        let dumpID = TestStack.unique("dump")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        try await producer.createTopics(Topics.all.map { ($0, 4) })

        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let store = ProfileStore(client: client)
            let mergeGroup = TestStack.unique("merger")
            let ingest = DumpIngestor(logger: logger)
            let enricher = SignalEnricher(cache: nil, logger: logger)
            let stages: [any Service] = [
                TransformStage(name: "dump-consumer",
                               consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("dc"),
                                                           topics: [Topics.activityDumps], logger: logger),
                               producer: producer, logger: logger) { ingest.transform($0) },
                ProfileMergeStage(consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: mergeGroup,
                                                              topics: [Topics.profileMergeRequests],
                                                              onAssign: ProfileMergeStage.storedOffsets(store: store, group: mergeGroup),
                                                              logger: logger),
                                  producer: producer, store: store, cache: VersionCache(capacity: 100), consumerGroup: mergeGroup, logger: logger),
                TransformStage(name: "signal-enricher",
                               consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("se"),
                                                           topics: [Topics.securitySignals], logger: logger),
                               producer: producer, logger: logger) { try await enricher.transform($0) },
            ]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in stages { group.addTask { try await s.run() } }
                defer { group.cancelAll() }

                let dump = #"{"id":"\#(dumpID)","workload":{"image_name":"\#(image)","image_tag":"v1","container_id":"c-1"},"processes":[{"path":"/bin/app"}]}"#
                try await producer.send(KafkaRecord(topic: Topics.activityDumps, key: nil, value: Array(dump.utf8)))
                try await producer.send(KafkaRecord(topic: Topics.activityDumps, key: nil, value: Array("{not json".utf8),
                                                    headers: [KafkaHeader("trace", image)]))

                // The dump is re-keyed by profile and recorded by the merger.
                let requests = try await TestStack.collect(Topics.profileMergeRequests, count: 1) {
                    $0.header(WireHeaders.dumpID)?.stringValue == dumpID
                }
                #expect(requests.first?.keyString == image)
                var row: (String, String, String)?
                let deadline = ContinuousClock.now + .seconds(20)
                while row == nil && ContinuousClock.now < deadline {
                    for try await r in try await client.query(
                        "SELECT profile_key, image_tag, instance_id FROM merged_dumps WHERE dump_id = \(dumpID)"
                    ).decode((String, String, String).self) { row = r }
                    if row == nil { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(row?.0 == image)
                #expect(row?.1 == "v1")
                #expect(row?.2 == "c-1")

                // The garbage went to the dead-letter topic, bytes and headers intact, with a reason.
                let dead = try await TestStack.collect(Topics.activityDumpsDLQ, count: 1) { $0.header("trace")?.stringValue == image }
                #expect(dead.first.map { String(decoding: $0.value, as: UTF8.self) } == "{not json")
                #expect(dead.first?.header(WireHeaders.errorCode)?.stringValue == "invalid_json")
                #expect(dead.first?.header(WireHeaders.sourceTopic)?.stringValue == Topics.activityDumps)

                // A signal comes out enriched, the original bytes untouched.
                let signal = #"{"evt":{"name":"exec"},"title":"\#(image)","tags":["image_name:\#(image)","image_tag:v1"]}"#
                try await producer.send(KafkaRecord(topic: Topics.securitySignals, key: image, value: Array(signal.utf8)))
                let enriched = try await TestStack.collect(Topics.securitySignalsEnriched, count: 1) { $0.keyString == image }
                let bytes = try #require(enriched.first?.value)
                #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(String(signal.dropLast())))
                let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
                let baseline = try #require(object["baseline"] as? [String: Any])
                #expect(baseline["profile_key"] as? String == image)
                #expect(object["title"] as? String == image)
            }
        }
    }
}
