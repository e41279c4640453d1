// dump-consumer: activity-dumps -> validate, normalise -> profile-merge-requests (keyed by profile),
// rejects -> activity-dumps.dlq. Wiring only; the logic is BaselinePipeline.DumpIngestor.
import BaselineKafka
import BaselinePipeline
import BaselineService

await ServiceRunner.main(serviceName: "dump-consumer", defaultHTTPPort: 9401) { config, readiness, logger in
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try Topology.ensureTopics(config, producer: producer, logger: logger)
    let consumer = try KafkaConsumer(
        configuration: config.kafka,
        groupID: config.string("BASELINE_DUMP_CONSUMER_GROUP", default: "baseline-dump-consumer"),
        topics: [Topics.activityDumps], logger: logger)
    let ingestor = DumpIngestor(logger: logger)
    let stage = TransformStage(name: "dump-consumer", consumer: consumer, producer: producer,
                               maxBatch: try config.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000),
                               logger: logger, onStart: { readiness.markReady() }) { ingestor.transform($0) }
    return [stage]
}
