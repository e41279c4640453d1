import BaselineCore
import BaselineKafka
import BaselineWire
import Foundation
import Logging
import PostgresNIO

/// Feeds a generated fleet through a running pipeline, Kafka in and Kafka out, and tallies what
/// came out against the ground truth: dumps to `activity-dumps`, wait until PostgreSQL says every
/// version of the fleet is stable, signals to `security-signals`, then read their enriched copies
/// from `security-signals.enriched` (joined back by the signal's `id`).
public struct FleetEvaluation: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public var kafka: KafkaConfiguration
    public var client: PostgresClient
    public var dumpsTopic = Topics.activityDumps
    public var signalsTopic = Topics.securitySignals
    public var enrichedTopic = Topics.securitySignalsEnriched
    /// How long to wait for every version to turn stable, and for every enriched signal.
    public var stableTimeout: Duration = .seconds(600)
    public var outputTimeout: Duration = .seconds(120)
    public var progress: @Sendable (String) -> Void = { _ in }
    public var logger: Logger

    public init(kafka: KafkaConfiguration, client: PostgresClient, logger: Logger) {
        self.kafka = kafka
        self.client = client
        self.logger = logger
    }

    public func run(_ fleet: GeneratedFleet) async throws -> EvaluationTally {
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        defer { producer.triggerClose() }
        try await sendDumps(fleet, producer: producer)
        try await waitUntilStable(fleet)
        // Subscribe before sending, so no enriched signal can slip past the consumer.
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "baseline-evaluate-\(UInt64.random(in: 0 ... .max))",
                                         topics: [enrichedTopic], logger: logger)
        let joinDeadline = ContinuousClock.now + .seconds(30)
        while consumer.assignment.isEmpty && ContinuousClock.now < joinDeadline { _ = try await consumer.poll(maxMessages: 1, maxWaitMs: 100) }
        var tally = EvaluationTally(signals: fleet.signals)
        let kinds = fleet.kindsByID
        do {
            var sent = 0
            for chunk in stride(from: 0, to: fleet.signals.count, by: 500) {
                let slice = fleet.signals[chunk..<min(chunk + 500, fleet.signals.count)]
                _ = try await producer.sendAll(slice.map { KafkaRecord(topic: signalsTopic, key: $0.id, value: $0.bytes) })
                sent += slice.count
                progress("signals sent: \(sent)/\(fleet.signals.count)")
            }
            var seen = Set<String>()
            let deadline = ContinuousClock.now + outputTimeout
            while seen.count < kinds.count && ContinuousClock.now < deadline {
                for message in try await consumer.poll(maxMessages: 1000, maxWaitMs: 200) {
                    guard let outcome = try? SignalOutcome.fromEnrichedSignal(message.value, kinds: kinds) else { continue }
                    if let id = outcome.id { seen.insert(id) }
                    tally.record(outcome)
                }
                progress("enriched signals read: \(seen.count)/\(kinds.count)")
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return tally
    }

    func sendDumps(_ fleet: GeneratedFleet, producer: KafkaProducer) async throws {
        let encoder = JSONEncoder()
        var sent = 0
        for chunk in stride(from: 0, to: fleet.dumps.count, by: 200) {
            let slice = fleet.dumps[chunk..<min(chunk + 200, fleet.dumps.count)]
            // Keyed by container: one container's dumps keep their order, containers interleave.
            // Recorded when each dump ended, as an agent sending on time does: the model judges a
            // dump received long after its events as of its receipt, so a fleet of past events
            // sent all at once would be judged by how its partitions happened to interleave.
            _ = try await producer.sendAll(try slice.map {
                KafkaRecord(topic: dumpsTopic, key: $0.workload.containerID.map { Array($0.utf8) }, value: Array(try encoder.encode($0)),
                            timestampMs: $0.end.map { $0 / 1_000_000 })
            })
            sent += slice.count
            progress("dumps sent: \(sent)/\(fleet.dumps.count)")
        }
    }

    func waitUntilStable(_ fleet: GeneratedFleet) async throws {
        let versions = fleet.summary.versions
        // Every (name, tag) pair of the fleet is one of its versions: names and tags are unique to it.
        let names = Array(Set(versions.map(\.imageName))), tags = Array(Set(versions.map(\.imageTag)))
        let expected = versions.count * EventType.allCases.count
        let deadline = ContinuousClock.now + stableTimeout
        var last = (merged: 0, stable: 0)
        while ContinuousClock.now < deadline {
            let rows = try await client.query("""
                SELECT (SELECT count(*) FROM merged_dumps WHERE profile_key = ANY(\(names)) AND image_tag = ANY(\(tags))),
                       (SELECT count(*) FROM profile_event_types
                        WHERE profile_key = ANY(\(names)) AND image_tag = ANY(\(tags)) AND state = 'stable')
                """, logger: logger).decode((Int64, Int64).self)
            for try await (merged, stable) in rows { last = (Int(merged), Int(stable)) }
            progress("dumps merged: \(last.merged)/\(fleet.dumps.count), event types stable: \(last.stable)/\(expected)")
            if last.stable >= expected { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw Failure(description: "not every version turned stable within \(stableTimeout): \(last.merged)/\(fleet.dumps.count) dumps merged, "
                      + "\(last.stable)/\(expected) event types stable (is the pipeline running?)")
    }
}
