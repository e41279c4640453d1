// signal-enricher: security-signals -> + baseline context -> security-signals.enriched
// (and suppression-suggestions); unparseable -> security-signals.dlq. Wiring only.
import BaselineKafka
import BaselinePipeline
import BaselineService

await ServiceRunner.main(serviceName: "signal-enricher", defaultHTTPPort: 9403) { config, readiness, logger in
    let client = config.database.makeClient(logger: logger)
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try Topology.ensureTopics(config, producer: producer, logger: logger)
    let enricher = SignalEnricher(logger: logger)
    let maxBatch = try config.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000)
    let stage = PreparedService(
        LazyService {
            let consumer = try KafkaConsumer(
                configuration: config.kafka,
                groupID: config.string("BASELINE_ENRICHER_GROUP", default: "baseline-signal-enricher"),
                topics: [Topics.securitySignals], logger: logger)
            return TransformStage(name: "signal-enricher", consumer: consumer, producer: producer, maxBatch: maxBatch,
                                  logger: logger, onStart: { readiness.markReady() }) { enricher.transform($0) }
        },
        prepare: { try await Topology.migrate(client, logger: logger) })
    return [client, producer, stage]
}
