import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// Two live profile-merger members in one consumer group on the real broker. Member A stalls in
/// the middle of a batch (inside its merge transaction, the state merged in memory, nothing
/// written yet), the group takes the partition away from it and hands it to member B, B merges
/// that batch and more, then A wakes up and tries to write: the transaction must refuse it.
@Suite struct MergerFencingTests {
    let fixtures = ProfileFixtures()

    /// A flag set once, read from any task.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        /// Sets the flag; false when it was already set.
        @discardableResult func set() -> Bool { lock.withLock { defer { value = true }; return !value } }
    }

    /// Values appended from any task.
    final class Samples<Value: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Value] = []
        func append(_ v: Value) { lock.withLock { values.append(v) } }
        var all: [Value] { lock.withLock { values } }
    }

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        guard try await eventually(timeout: timeout, condition) else { throw Timeout(description: "timed out waiting until \(what)") }
    }

    /// Whether `condition` holds within `timeout`.
    func eventually(timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    func value(_ sql: PostgresQuery, _ client: PostgresClient) async throws -> Int64 {
        var n: Int64 = -1
        for try await v in try await client.query(sql).decode(Int64.self) { n = v }
        return n
    }

    /// A merger as profile-merger wires it, as one member of `group` named by `clientID` (the
    /// range assignor hands a single partition to the member whose id sorts first).
    func member(_ clientID: String, group: String, topic: String, client: PostgresClient, producer: KafkaProducer,
                logger: Logger, extra: [String: String] = [:],
                beforeWrite: ProfileMergeHandler.BeforeWrite? = nil) throws -> (ProfileMergeStage, KafkaConsumer) {
        let store = ProfileStore(client: client)
        let cache = VersionCache(capacity: 10)
        let reference = ConsumerReference()
        let consumer = try KafkaConsumer(
            configuration: TestStack.kafka, groupID: group, topics: [topic], extraProperties: extra.merging(["client.id": clientID]) { $1 },
            onAssign: ProfileMergeStage.storedOffsets(store: store, group: group, cache: cache,
                                                      bounds: reference, logger: logger),
            onRevoke: { _ in cache.removeAll() }, logger: logger)
        reference.set(consumer)
        var handler = ProfileMergeHandler(producer: producer, store: store, cache: cache, model: fixtures.model, consumerGroup: group,
                                          logger: logger)
        handler.beforeWrite = beforeWrite
        let stage = ConsumingStage(name: "profile-merger-\(clientID)", handler: handler, consumer: consumer, producer: producer,
                                   maxBatch: 50, logger: logger)
        return (stage, consumer)
    }

    @Test func aMemberThatStallsMidBatchLosesItsPartitionAndWritesNothingWhenItWakes() async throws {
        try TestStack.requireKafka()
        let image = TestStack.unique("fence2"), reference = TestStack.unique("fence1")
        let requests = fixtures.workload(image)  // 12 dumps, 5 instances: learning, patterns, stable states
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        defer { producer.triggerClose() }
        let topic = TestStack.unique("merge"), referenceTopic = TestStack.unique("merge")
        try await producer.createTopics([(topic, 1), (referenceTopic, 1)])
        let group = TestStack.unique("g")
        // Set here, not taken from BASELINE_KAFKA_PROPERTIES: librdkafka's default session timeout
        // (45 s) would outlast every wait below. librdkafka drops a member that has not polled for
        // max.poll.interval.ms (never below the session timeout).
        let session = 3_000
        let stallLimit = max(3_000, session)
        let groupTimeouts = ["session.timeout.ms": "\(session)", "heartbeat.interval.ms": "500"]
        // A wait that spans the group noticing a stalled or new member and rebalancing.
        let rebalanceWait = max(Duration.seconds(30), .milliseconds(stallLimit * 4) + .seconds(15))

        try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            // The same dumps under another name, merged by one member alone: what the two must end with.
            try await fixtures.produce(fixtures.workload(reference), to: referenceTopic, producer: producer)
            try await fixtures.runMerger(topic: referenceTopic, group: TestStack.unique("g"), expected: 12, maxBatch: 50, client: client,
                                         producer: producer)

            let capture = LogCapture()
            var loggerA = Logger(label: "member-a") { _ in capture }
            loggerA.logLevel = .info
            let holding = Flag(), release = Flag(), heldOnce = Flag()
            let heldDump = requests[4].dumpID
            // B joins first, so it leads the group (see docs/reliability.md: Tansu never replaces a leader
            // that left mid-rebalance); A's id sorts first, so A is given the partition once it joins.
            let (stageB, consumerB) = try member("b-standby", group: group, topic: topic, client: client, producer: producer,
                                                 logger: TestStack.logger, extra: groupTimeouts)
            let stopped = Samples<String>()
            let offsets = Samples<Int64>(), nodeDumps = Samples<Int64>(), versionDumps = Samples<Int64>()
            let done = Flag()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                defer { tasks.cancelAll() }
                tasks.addTask {
                    do { try await stageB.run() } catch where !done.isSet { stopped.append("B: \(error)") }
                }
                try await waitUntil("B joined the group and holds the partition", timeout: rebalanceWait) { !consumerB.assignment.isEmpty }
                // A joins only now (a consumer joins its group when it is built).
                let (stageA, consumerA) = try member(
                    "a-stalls", group: group, topic: topic, client: client, producer: producer, logger: loggerA,
                    extra: groupTimeouts.merging(["max.poll.interval.ms": "\(stallLimit)"]) { $1 },
                    beforeWrite: { items in
                        // The first batch holding the second group of dumps stalls here, merged but unwritten.
                        guard items.contains(where: { if case .dump(let r) = $0.0 { r.dumpID == heldDump } else { false } }),
                              heldOnce.set() else { return }
                        holding.set()
                        while !release.isSet && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
                    })
                tasks.addTask {
                    do { try await stageA.run() } catch where !done.isSet { stopped.append("A: \(error)") }
                }
                try await waitUntil("A took the partition from B", timeout: rebalanceWait) { !consumerA.assignment.isEmpty && consumerB.assignment.isEmpty }
                // Watch the stored offset and the statistics while the members fight over the partition.
                tasks.addTask {
                    while !done.isSet {
                        offsets.append(try await value("SELECT coalesce(max(next_offset), 0) FROM consumer_offsets WHERE consumer_group = \(group)", client))
                        nodeDumps.append(try await value("SELECT coalesce(sum(dumps), 0)::int8 FROM profile_nodes WHERE profile_key = \(image)", client))
                        versionDumps.append(try await value("SELECT coalesce(max(dumps_merged), 0) FROM profile_versions WHERE profile_key = \(image)", client))
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }

                // A merges the first four dumps alone.
                try await fixtures.produce(Array(requests[0..<4]), to: topic, producer: producer)
                try await waitUntil("A merged the first 4 dumps") {
                    try await value("SELECT coalesce(max(next_offset), 0) FROM consumer_offsets WHERE consumer_group = \(group)", client) == 4
                }
                // The next four: A stalls in the middle of that batch, its poll loop blocked, so the group
                // drops it after max.poll.interval.ms and B is given the partition.
                try await fixtures.produce(Array(requests[4..<8]), to: topic, producer: producer)
                try await waitUntil("A stalls mid-batch") { holding.isSet }
                try await waitUntil("B took the partition while A stalls", timeout: rebalanceWait) { !consumerB.assignment.isEmpty }
                #expect(holding.isSet && !release.isSet)
                // B re-reads from the stored offset: the batch A holds, then the last four.
                try await fixtures.produce(Array(requests[8..<12]), to: topic, producer: producer)
                try await waitUntil("B merged everything while A stalls") {
                    try await value("SELECT coalesce(max(next_offset), 0) FROM consumer_offsets WHERE consumer_group = \(group)", client) == 12
                }
                #expect(!release.isSet)

                // A wakes up and tries to write what it merged from the older state.
                let rebalancesOfA = consumerA.rebalanceCount
                release.set()
                let fenced = try await eventually(timeout: .seconds(15)) {
                    capture.entries.contains { $0.level == .warning && $0.message.contains("fenced: \(topic)[0] is stored at 12") }
                }
                #expect(fenced, "A's stale batch was not refused")
                // A polls again, learns it lost the partition, rejoins the group and (its id sorting first)
                // is given it back, from the offset B stored.
                try await waitUntil("A rejoined and owns the partition again", timeout: rebalanceWait) {
                    consumerA.rebalanceCount > rebalancesOfA && !consumerA.assignment.isEmpty && consumerB.assignment.isEmpty
                }
                try await Task.sleep(for: .milliseconds(500))
                done.set()
            }
            #expect(stopped.all.isEmpty, "a member stopped on an error: \(stopped.all)")

            // Nothing A computed was written: the stored offset never went backwards, statistics never
            // went backwards or counted a dump twice, and the profile is the single-member one.
            #expect(try await value("SELECT next_offset FROM consumer_offsets WHERE consumer_group = \(group)", client) == 12)
            for (name, series) in [("offset", offsets.all), ("node dumps", nodeDumps.all), ("version dumps", versionDumps.all)] {
                #expect(zip(series, series.dropFirst()).allSatisfy { $0 <= $1 }, "\(name) went backwards: \(series)")
            }
            #expect(offsets.all.count > 20)  // the watcher saw the whole fight
            #expect(try await value("SELECT count(*) FROM merged_dumps WHERE profile_key = \(image)", client) == 12)
            #expect(try await value("SELECT dumps_merged FROM profile_versions WHERE profile_key = \(image)", client) == 12)
            #expect(try await value("""
                SELECT count(*) - count(DISTINCT (event_type, from_state, to_state, at_ns)) FROM state_transitions WHERE profile_key = \(image)
                """, client) == 0)
            let twoMembers = try await fixtures.snapshot(image, client: client).map { $0.replacingOccurrences(of: image, with: "X") }
            let oneMember = try await fixtures.snapshot(reference, client: client).map { $0.replacingOccurrences(of: reference, with: "X") }
            #expect(twoMembers == oneMember)
            #expect(oneMember.contains { $0.hasPrefix("transition ") } && oneMember.contains { $0.hasPrefix("node ") })
        }
    }
}
