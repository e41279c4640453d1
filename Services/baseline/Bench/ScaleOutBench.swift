import ArgumentParser
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO

/// Scale-out: profile-merger's and signal-enricher's rates on a backlog with two instances in one
/// consumer group, beside one instance on the same messages, whether two mergers make the same
/// profiles as one, and each stage's rate with one instance (what the partition counts of a fleet
/// follow from):
///
/// 1. dumps to `activity-dumps`; one dump-consumer turns them into merge requests (the rate at
///    which `profile-merge-requests` grows). One only: the issue asks for two mergers and two
///    enrichers, and one dump-consumer's rate is what the sizing of `activity-dumps` needs;
/// 2. two profile-mergers merge those requests into one database, then one merger merges the very
///    same requests (from the start of the topic, a group of its own) into another: both rates,
///    and the two databases' profiles compared row by row;
/// 3. signals to `security-signals`; two enrichers, then one (a group of its own), enrich them.
///
/// On a machine with fewer cores than instances the instances share the cores: the point of the
/// figures is that the work spreads (each instance's share is printed) and the profiles stay the same.
struct ScaleOutBench: Sendable {
    let stack: BenchStack
    let progress: BenchProgress
    /// The progress step this part shows.
    let step: Int
    let instances = 2
    /// Suffix of this run's consumer groups: a group's committed offsets outlive the topics the
    /// bench deletes and re-creates, so a group of an earlier run would start past the new messages.
    let run = UInt32.random(in: 0 ... .max)

    /// One stage with one instance and with `instances` instances.
    struct Stage: Sendable {
        var single: Double
        var scaled: Double
        /// Messages each scaled instance took (its ops endpoint's `baseline_stage_inputs_total`).
        var shares: [Double]
        var ratio: Double { scaled / single }
        var everyInstanceWorked: Bool { !shares.isEmpty && shares.allSatisfy { $0 > 0 } }
    }

    struct Figures: Sendable {
        /// One dump-consumer's rate.
        var dumpConsumer: Double
        var merger: Stage
        var enricher: Stage
        /// Rows compared between the scaled mergers' profiles and the single merger's.
        var profileRows: Int
        /// Rows present in one and not the other.
        var differingRows: Int
        var differingExamples: [String]
    }

    var singleDatabase: String { stack.databaseName }
    var scaledDatabase: String { String((stack.databaseName + "_scaled").prefix(63)) }

    func measure(_ fixtures: BenchFixtures, producer: KafkaProducer) async throws -> Figures {
        progress.show(step, "scale-out: resetting topics and databases \(singleDatabase), \(scaledDatabase)")
        try await stack.resetTopics(producer)
        for database in [singleDatabase, scaledDatabase] {
            try await stack.recreateDatabase(database)
            _ = try await stack.withDatabase(stack.url(ofDatabase: database)) { try await Migrator().migrate($0, logger: cliLogger) }
        }
        let d = fixtures.dumpPayloads.count, s = fixtures.signalPayloads.count
        try await PipelineBench.produce(producer, topic: Topics.activityDumps, values: fixtures.dumpPayloads) {
            progress.show(step, "scale-out: producing dumps: \($0) of \(d)")
        }
        // Reads the merge requests as dump-consumer writes them (the partitions' watermarks, queried
        // while it wrote, were seen to lag on the local broker).
        let probe = try KafkaConsumer(configuration: stack.kafka, groupID: "bench-merge-requests-\(UInt32.random(in: 0 ... .max))",
                                      topics: [Topics.profileMergeRequests], extraProperties: ["fetch.wait.max.ms": "5"], logger: cliLogger)
        var running: [ServiceProcess] = []
        var consumers = [probe]
        do {
            let figures = try await measureStages(fixtures, d: d, s: s, producer: producer, probe: probe, running: &running, consumers: &consumers)
            for c in consumers { await c.close() }
            return figures
        } catch {
            for c in consumers { await c.close() }
            for service in running { await service.stop() }
            throw error
        }
    }

    private func measureStages(_ fixtures: BenchFixtures, d: Int, s: Int, producer: KafkaProducer, probe: KafkaConsumer,
                               running: inout [ServiceProcess], consumers: inout [KafkaConsumer]) async throws -> Figures {
        let n = instances
        let timeout = Duration.seconds(120 + Double(d) / 20)

        // 1. dump-consumer × 1.
        let requestsBefore = try await PipelineBench.joined(probe)
        let dc = try start("dump-consumer", 1, group: "bench-\(run)-scale-dc-1", database: singleDatabase)
        running += dc
        let dcSingle = try await PipelineBench.outputRate(probe, alreadyRead: requestsBefore, expected: d, timeout: timeout, services: dc) {
            progress.show(step, "scale-out: 1 dump-consumer: \($0) of \(d) dumps")
        }
        try await stop(dc, &running)

        // 2. profile-merger × n, then × 1 on the same merge requests.
        let scaledMergers = try start("profile-merger", n, group: "bench-\(run)-scale-merger-\(n)", database: scaledDatabase)
        running += scaledMergers
        let mergerScaled = try await mergedRate(scaledDatabase, expected: d, timeout: timeout, services: scaledMergers) {
            progress.show(step, "scale-out: \(n) profile-mergers: \($0) of \(d) dumps merged")
        }
        let mergerShares = try await shares(scaledMergers, expected: d)
        try await stop(scaledMergers, &running)
        let singleMerger = try start("profile-merger", 1, group: "bench-\(run)-scale-merger-1", database: singleDatabase)
        running += singleMerger
        let mergerSingle = try await mergedRate(singleDatabase, expected: d, timeout: timeout, services: singleMerger) {
            progress.show(step, "scale-out: 1 profile-merger: \($0) of \(d) dumps merged")
        }
        try await stop(singleMerger, &running)
        progress.show(step, "scale-out: comparing the profiles of \(n) mergers with one merger's")
        let scaledRows = try await stack.withDatabase(stack.url(ofDatabase: scaledDatabase)) { try await Self.profileRows($0) }
        let singleRows = try await stack.withDatabase(stack.url(ofDatabase: singleDatabase)) { try await Self.profileRows($0) }
        let differing = Set(scaledRows).symmetricDifference(singleRows).sorted()

        // 3. signal-enricher × n, then × 1, each on the same signals. The instances join their
        // group before the signals arrive (on a backlog the first member to join would take every
        // partition and could finish before the other one joined); the second group starts at the
        // end of what the first one enriched.
        let signalTimeout = Duration.seconds(120 + Double(s) / 200)
        let enriched = try KafkaConsumer(configuration: stack.kafka, groupID: "bench-scale-enriched-\(UInt32.random(in: 0 ... .max))",
                                         topics: [Topics.securitySignalsEnriched], extraProperties: ["fetch.wait.max.ms": "5"],
                                         logger: cliLogger)
        consumers.append(enriched)
        var enrichedBefore = try await PipelineBench.joined(enriched)
        var enrichRates: [Int: Double] = [:]
        var enricherShares: [Double] = []
        for count in [n, 1] {
            let group = "bench-\(run)-scale-enricher-\(count)"
            if count != n { try await commitEnds(Topics.securitySignals, group: group) }
            let enrichers = try start("signal-enricher", count, group: group, database: count == 1 ? singleDatabase : scaledDatabase)
            running += enrichers
            for e in enrichers where !(try await e.waitUntilReady()) {
                throw PipelineBench.Timeout(description: "\(e.name) never became ready; its log ends:\n\(e.logTail())")
            }
            progress.show(step, "scale-out: \(count) signal-enricher(s) joining their group")
            try await Task.sleep(for: .seconds(5))
            try await PipelineBench.produce(producer, topic: Topics.securitySignals, values: fixtures.signalPayloads) {
                progress.show(step, "scale-out: producing signals: \($0) of \(s)")
            }
            enrichRates[count] = try await PipelineBench.outputRate(enriched, alreadyRead: enrichedBefore, expected: s, timeout: signalTimeout, services: enrichers) {
                progress.show(step, "scale-out: \(count) signal-enricher(s): \($0) of \(s) signals")
            }
            enrichedBefore = 0
            if count == n { enricherShares = try await shares(enrichers, expected: s) }
            try await stop(enrichers, &running)
        }
        let enrichScaled = enrichRates[n] ?? .nan, enrichSingle = enrichRates[1] ?? .nan

        return Figures(dumpConsumer: dcSingle,
                       merger: Stage(single: mergerSingle, scaled: mergerScaled, shares: mergerShares),
                       enricher: Stage(single: enrichSingle, scaled: enrichScaled, shares: enricherShares),
                       profileRows: scaledRows.count, differingRows: differing.count, differingExamples: Array(differing.prefix(5)))
    }

    /// Commits the end of `topic` for `group`, as a member of it (Tansu takes commits from members
    /// only): the group's members start after what the topic holds now.
    private func commitEnds(_ topic: String, group: String) async throws {
        let member = try KafkaConsumer(configuration: stack.kafka, groupID: group, topics: [topic], logger: cliLogger)
        do {
            let deadline = ContinuousClock.now + .seconds(30)
            while member.assignment.count < Int(stack.partitions) && ContinuousClock.now < deadline {
                _ = try await member.poll(maxMessages: 1, maxWaitMs: 100)
            }
            var ends: [KafkaTopicPartition: Int64] = [:]
            for p in 0..<stack.partitions {
                let partition = KafkaTopicPartition(topic: topic, partition: p)
                ends[partition] = try await member.watermarks(partition).high
            }
            try await member.commit(ends)
        } catch {
            await member.close()
            throw error
        }
        await member.close()
    }

    /// `count` instances of a service in consumer group `group`, on `database`. No clock sweeps:
    /// a sweep in one database and not the other would make the profiles differ for a reason
    /// unrelated to scaling.
    private func start(_ service: String, _ count: Int, group: String, database: String) throws -> [ServiceProcess] {
        let groupVariable = ["dump-consumer": "BASELINE_DUMP_CONSUMER_GROUP", "profile-merger": "BASELINE_MERGER_GROUP",
                             "signal-enricher": "BASELINE_ENRICHER_GROUP"][service] ?? "BASELINE_GROUP"
        return try (1...count).map { i in
            try stack.startInstance(service, label: "scaleout-\(service)-\(i)-of-\(count)", [
                groupVariable: group, "BASELINE_DATABASE_URL": stack.url(ofDatabase: database), "BASELINE_SWEEP_INTERVAL_SECONDS": "0",
            ])
        }
    }

    private func stop(_ services: [ServiceProcess], _ running: inout [ServiceProcess]) async throws {
        for service in services { await service.stop() }
        running.removeAll { r in services.contains { $0 === r } }
    }

    /// Messages each instance took in, from its /metrics.
    /// A stage counts a batch's inputs after it delivered the batch's outputs, a moment after its
    /// effects are visible, so this waits (at most 5 s) until the shares add up to `expected`.
    private func shares(_ services: [ServiceProcess], expected: Int) async throws -> [Double] {
        let deadline = ContinuousClock.now + .seconds(5)
        var counts = services.map { $0.metric("baseline_stage_inputs_total") ?? 0 }
        while counts.reduce(0, +) < Double(expected) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            counts = services.map { $0.metric("baseline_stage_inputs_total") ?? 0 }
        }
        return counts
    }

    private func mergedRate(_ database: String, expected: Int, timeout: Duration, services: [ServiceProcess],
                            progress: @escaping @Sendable (Int) -> Void) async throws -> Double {
        try await stack.withDatabase(stack.url(ofDatabase: database)) { client in
            try await PipelineBench.mergedDumpsRate(client, expected: expected, timeout: timeout, services: services, progress: progress)
        }
    }

    /// Everything a merge decides about the profiles, one line per row (as ScaleOutTests compares them).
    static func profileRows(_ client: PostgresClient) async throws -> [String] {
        let queries: [PostgresQuery] = [
            "SELECT format('version %s %s dumps=%s instances=%s', profile_key, image_tag, dumps_merged, instances) FROM profile_versions",
            "SELECT format('node %s %s %s %s dumps=%s instances=%s ordinals=%s seen=%s..%s', profile_key, image_tag, event_type, node_key, dumps, instances, instance_ordinals, first_seen_ns, last_seen_ns) FROM profile_nodes",
            "SELECT format('type %s %s %s %s nodes=%s q=%s/%s coverage=%s novelty=%s commonality=%s', profile_key, image_tag, event_type, state, nodes, q1, q2, coverage, novelty, commonality) FROM profile_event_types",
            "SELECT format('instance %s %s %s %s %s..%s', profile_key, image_tag, ordinal, instance_id, first_seen_ns, last_seen_ns) FROM profile_instances",
            "SELECT format('transition %s %s %s %s->%s at=%s %s %s', profile_key, image_tag, event_type, from_state, to_state, at_ns, dump_id, reason) FROM state_transitions",
            "SELECT format('anomaly %s %s %s %s %s %s', anomaly_id, profile_key, image_tag, event_type, node_key, dump_id) FROM anomalies",
        ]
        var rows: [String] = []
        for query in queries {
            for try await row in try await client.query(query, logger: cliLogger).decode(String.self) { rows.append(row) }
        }
        return rows.sorted()
    }
}

extension ScaleOutBench.Figures {
    /// The table's rows: each stage with two instances beside one, whether the profiles stayed the
    /// same, and the partitions each input topic needs for the stated fleet.
    func rows(fleet: FleetSizing, instances: Int) -> [BenchRow] {
        func stageRow(_ figure: String, _ stage: ScaleOutBench.Stage, _ unit: String) -> BenchRow {
            let shares = stage.shares.map { BenchFormat.grouped($0) }.joined(separator: " / ")
            return BenchRow(figure, "\(BenchFormat.rate(stage.scaled, unit)) (\(instances) instances took \(shares))",
                            comparedWith: "1 instance \(BenchFormat.rate(stage.single, unit))",
                            ratio: String(format: "%.2f×", stage.ratio), target: "every instance works", met: stage.everyInstanceWorked)
        }
        var rows = [
            stageRow("scale-out, cores shared: profile-merger ×\(instances), merge requests → PostgreSQL rows", merger, "dumps"),
            stageRow("scale-out, cores shared: signal-enricher ×\(instances), security-signals → .enriched", enricher, "signals"),
            BenchRow("scale-out: profiles of \(instances) mergers = 1 merger's (same merge requests)",
                     differingRows == 0 ? "identical (\(BenchFormat.grouped(Double(profileRows))) rows)"
                         : "\(differingRows) of \(profileRows) rows differ, e.g. \(differingExamples.first ?? "")",
                     target: "identical", met: differingRows == 0 && profileRows > 0),
        ]
        let topics: [(String, Double, Double, String)] = [
            ("activity-dumps", fleet.dumpsPerSecond, dumpConsumer, "dumps"),
            ("profile-merge-requests", fleet.dumpsPerSecond, merger.single, "dumps"),
            ("security-signals", fleet.signalsPerSecond, enricher.single, "signals"),
        ]
        for (topic, required, perInstance, unit) in topics {
            let partitions = FleetSizing.partitions(required: required, perInstance: perInstance, headroom: fleet.headroom)
            let fleetText = unit == "signals" ? "\(BenchFormat.grouped(fleet.signalsPerSecond)) signals/s" : fleet.description
            rows.append(BenchRow("partitions of \(topic) for \(fleetText)",
                                 partitions.map { "\($0) (up to \($0) instances)" } ?? "n/a",
                                 comparedWith: "⌈\(BenchFormat.rate(required, unit)) × \(BenchFormat.grouped(fleet.headroom)) ÷ \(BenchFormat.rate(perInstance, unit)) per instance⌉"))
        }
        return rows
    }
}
