import BaselineCore
import BaselineEvaluation
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineWire
import Foundation
import PostgresNIO
import Testing

/// The detection targets on a small seeded fleet, through the whole pipeline with production
/// model defaults: dump-consumer → profile-merger → PostgreSQL → signal-enricher, Kafka in and
/// Kafka out (what `baseline evaluate` does against running services).
@Suite struct DetectionEvaluationTests {
    let logger = TestStack.logger

    @Test func aSmallSeededFleetMeetsEveryDetectionTarget() async throws {
        try TestStack.requireKafka()
        var config = FleetConfiguration.small
        config.seed = 7
        config.imageNamePrefix = TestStack.unique("eval") + "-"
        // Event times end now, as the broker's plausibility check expects of live dumps.
        config.startNanoseconds = (Timestamps.nanoseconds(Date()) ?? 0) - config.spanNanoseconds - 60 * 1_000_000_000
        let fleet = FleetGenerator.generate(config)

        let dumps = TestStack.unique("eval-dumps"), merges = TestStack.unique("eval-merges"), signals = TestStack.unique("eval-signals")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        try await producer.createTopics([(dumps, 2), (merges, 2), (signals, 2)] + Topics.all.map { ($0, 4) })

        let tally = try await TestStack.withDatabase { client in
            try await Migrator().migrate(client, logger: TestStack.logger)
            let store = ProfileStore(client: client)
            let cache = VersionCache(capacity: 100)
            let group = TestStack.unique("eval-merger")
            let merger = ProfileMergeStage(
                consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [merges],
                                            onAssign: ProfileMergeStage.storedOffsets(store: store, group: group, cache: cache),
                                            logger: logger),
                producer: producer, store: store, cache: cache, model: ModelConfiguration(), consumerGroup: group, logger: logger)
            let ingest = DumpIngestor(outputTopic: merges, logger: logger)
            let consumerStage = TransformStage(
                name: "eval-dump-consumer",
                consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("eval-dc"), topics: [dumps], logger: logger),
                producer: producer, logger: logger) { ingest.transform($0) }
            let suppressionStore = SuppressionStore(client: client)
            let contexts = ProfileContextCache(store: suppressionStore, negativeTTL: .milliseconds(100), logger: logger)
            let suppressions = SuppressionState()
            let enricher = SignalEnricher(cache: contexts, suppressions: suppressions, store: suppressionStore, logger: logger)
            let enricherStage = TransformStage(
                name: "eval-enricher",
                consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("eval-se"), topics: [signals], logger: logger),
                producer: producer, logger: logger) { try await enricher.transform($0) }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumerStage.run() }
                group.addTask { try await merger.run() }
                group.addTask { try await enricherStage.run() }
                defer { group.cancelAll() }
                var evaluation = FleetEvaluation(kafka: TestStack.kafka, client: client, logger: logger)
                evaluation.dumpsTopic = dumps
                evaluation.signalsTopic = signals
                evaluation.stableTimeout = .seconds(120)
                evaluation.outputTimeout = .seconds(60)
                return try await evaluation.run(fleet)
            }
        }
        print(tally.render())
        #expect(tally.rows.allSatisfy { $0.missing == 0 }, "every signal came out enriched")
        for target in tally.targets { #expect(target.passed, "\(target.name): \(target.detail)") }
        // Rare behaviour is known but not common enough to suggest suppressing it.
        let rare = tally.row(.rare)
        #expect(rare.inProfile == rare.signals && rare.suggested == 0 && rare.anomaly == 0)
        let noAncestry = tally.row(.noAncestry)
        #expect(noAncestry.inProfile == 0 && noAncestry.suggested == 0 && noAncestry.suppressed == 0)
    }
}
