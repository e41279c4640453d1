import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import Testing

/// profile-merger's clock sweep and version cap against the real broker and database.
@Suite struct ClockAndGrowthTests {
    let logger = TestStack.logger
    let fixtures = ProfileFixtures()
    static let second: Int64 = 1_000_000_000

    func states(_ image: String, client: PostgresClient) async throws -> [String: String] {
        var out: [String: String] = [:]
        for try await (type, state) in try await client.query(
            "SELECT event_type, state FROM profile_event_types WHERE profile_key = \(image)").decode((String, String).self) {
            out[type] = state
        }
        return out
    }

    @Test func aQuietVersionTurnsStableByTheClockWithHistoryRows() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("quiet")
        // Eight dumps within eight minutes: enough evidence, but never 30 quiet minutes of event time.
        let requests = (0..<8).map { fixtures.request(image, dump: "\(image)-d\($0)", instance: "\(image)-i\($0 % 4)", at: Int64($0)) }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await fixtures.produce(requests, to: topic, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let group = TestStack.unique("g")
            try await fixtures.runMerger(topic: topic, group: group, expected: 8, maxBatch: 3, client: client, producer: producer)
            #expect(try await states(image, client: client).values.allSatisfy { $0 == "learning" })

            // The sweep finds it (no dump for a while: quietFor 0) and puts a tick on the topic.
            let sweeper = ClockSweeper(store: ProfileStore(client: client), producer: producer, quietFor: .zero, topic: topic, logger: logger)
            let lastEvent = requests.last!.dump.end!
            let sent = try await sweeper.sweep(at: lastEvent + 3600 * Self.second, including: { $0 == image })
            #expect(sent == 1)
            try await fixtures.runMerger(topic: topic, group: group, expected: 9, maxBatch: 3, client: client, producer: producer)
            #expect(try await states(image, client: client).values.allSatisfy { $0 == "stable" })
            var clockRows = 0
            for try await (dump, reason) in try await client.query("""
                SELECT coalesce(dump_id, '<clock>'), reason FROM state_transitions WHERE profile_key = \(image) AND to_state = 'stable'
                """).decode((String, String).self) {
                #expect(dump == "<clock>" && reason.hasPrefix("stable"))
                clockRows += 1
            }
            #expect(clockRows == EventType.allCases.count)
            // Stable now: the next sweep has nothing to do for it.
            #expect(try await sweeper.sweep(at: lastEvent + 7200 * Self.second, including: { $0 == image }) == 0)
        }
    }

    /// More quiet versions than a sweep ticks: each sweep goes on where the previous one ended, so
    /// every version is ticked in turn instead of the first page every time.
    @Test func sweepsPageThroughQuietVersionsSoNoneStarves() async throws {
        try TestStack.requireKafka()
        let prefix = TestStack.unique("page")
        let images = ["a", "b", "c", "d", "e"].map { "\(prefix)-\($0)" }
        let requests = images.map { fixtures.request($0, dump: "\($0)-d0", instance: "\($0)-i0", at: 0) }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge"), ticks = TestStack.unique("ticks")
        try await producer.createTopics([(topic, 1), (ticks, 1)])
        try await fixtures.produce(requests, to: topic, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: 5, maxBatch: 10, client: client, producer: producer)
            // Two versions a sweep; the first sweep starts just before this test's versions (other
            // tests' versions share the database).
            let sweeper = ClockSweeper(store: ProfileStore(client: client), producer: producer, quietFor: .zero, topic: ticks, pageSize: 2,
                                       startAfter: (profileKey: prefix, imageTag: ""), logger: logger)
            // A sweep whose ticks cannot be sent (the broker is unreachable) must not page on: the
            // versions of that page would wait a whole round for their ticks.
            let closed = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
            await closed.close()
            let failing = ClockSweeper(store: ProfileStore(client: client), producer: closed, quietFor: .zero, topic: ticks, pageSize: 2,
                                       startAfter: (profileKey: prefix, imageTag: ""), logger: logger)
            await #expect(throws: (any Error).self) {
                try await failing.sweep(at: 3600 * Self.second, including: { $0.hasPrefix(prefix + "-") })
            }
            #expect(failing.cursor.position?.profileKey == prefix, "the cursor moved past a page that was not sent")
            var sent: [Int] = []
            for round in 0..<3 {
                sent.append(try await sweeper.sweep(at: Int64(round + 1) * 3600 * Self.second, including: { $0.hasPrefix(prefix + "-") }))
            }
            #expect(sent == [2, 2, 1])
        }
        let read = try await TestStack.collect(ticks, count: 10, timeout: .seconds(5)).map { try WireCatalog.clockTicks.decode($0.value).profileKey }
        #expect(read.sorted() == images, "each quiet version ticked once over three sweeps")
    }

    @Test func aProfileKeepsItsMostRecentlySeenVersionsOnly() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("tags")
        let requests = (0..<4).map { n -> MergeRequest in
            var r = fixtures.request(image, dump: "\(image)-d\(n)", instance: "\(image)-i\(n)", at: Int64(n), files: ["/etc/v\(n)"])
            r.dump.workload.imageTag = "1.\(n)"
            return r
        }
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1)])
        try await fixtures.produce(requests, to: topic, producer: producer)
        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            // One dump per transaction, so each version's last dump has its own time.
            try await fixtures.runMerger(topic: topic, group: TestStack.unique("g"), expected: 4, maxBatch: 1, client: client,
                                         producer: producer, maxVersions: 3)
            var tags: [String] = []
            for try await t in try await client.query(
                "SELECT image_tag FROM profile_versions WHERE profile_key = \(image) ORDER BY image_tag").decode(String.self) { tags.append(t) }
            #expect(tags == ["1.1", "1.2", "1.3"])
            var orphans: Int64 = -1
            for try await n in try await client.query("""
                SELECT count(*) FROM profile_nodes WHERE profile_key = \(image) AND image_tag = '1.0'
                """).decode(Int64.self) { orphans = n }
            #expect(orphans == 0)
        }
    }
}
