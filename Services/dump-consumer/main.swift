// dump-consumer: activity-dumps -> validate, normalise -> profile-merge-requests (keyed by profile),
// rejects -> activity-dumps.dlq. Wiring only; the logic is BaselinePipeline.DumpIngestor.
import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselineService
import BaselineWire

await ServiceRunner.main(serviceName: "dump-consumer", defaultHTTPPort: 9401) { config, readiness, logger in
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try await Topology.ensureTopics(config, producer: producer, logger: logger)
    let consumer = try KafkaConsumer(
        configuration: config.kafka,
        groupID: config.string("BASELINE_DUMP_CONSUMER_GROUP", default: "baseline-dump-consumer"),
        topics: [config.string("BASELINE_DUMPS_TOPIC", default: Topics.activityDumps)], logger: logger)
    readiness.addCheck("kafka", ReadinessChecks.consumer(consumer))
    let limits = DumpLimits(
        maxPayloadBytes: try config.int("BASELINE_DUMP_MAX_PAYLOAD_BYTES", default: 16 << 20, range: 1...(1 << 30)),
        maxDecompressedBytes: try config.int("BASELINE_DUMP_MAX_DECOMPRESSED_BYTES", default: 64 << 20, range: 1...(1 << 31)),
        maxDepth: try config.int("BASELINE_DUMP_MAX_DEPTH", default: 64, range: 1...1000),
        maxNodes: try config.int("BASELINE_DUMP_MAX_NODES", default: 200_000, range: 1...10_000_000),
        maxStringLength: try config.int("BASELINE_DUMP_MAX_STRING_LENGTH", default: 4096, range: 16...1_000_000),
        maxChildren: try config.int("BASELINE_DUMP_MAX_CHILDREN", default: 10_000, range: 1...1_000_000))
    let times = EventTimePolicy(
        maxAhead: Int64(try config.int("BASELINE_EVENT_TIME_MAX_AHEAD_SECONDS", default: 300, range: 0...(365 * 86_400))) * EventTimePolicy.second,
        maxBehind: Int64(try config.int("BASELINE_EVENT_TIME_MAX_BEHIND_SECONDS", default: 86_400, range: 0...(365 * 86_400))) * EventTimePolicy.second)
    var storage = StorageLimits()
    storage.maxOutputBytes = try config.int("BASELINE_MAX_OUTPUT_BYTES", default: storage.maxOutputBytes, range: 1024...(1 << 30))
    let ingestor = DumpIngestor(decoder: DumpDecoder(limits: limits), times: times, storage: storage, logger: logger)
    let stage = TransformStage(name: "dump-consumer", consumer: consumer, producer: producer,
                               maxBatch: try config.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000),
                               logger: logger, onStart: { readiness.markReady() }) { ingestor.transform($0) }
    stage.reportHealth = { problem in if let problem { readiness.markNotReady(problem) } else { readiness.markReady() } }
    return [producer, stage, TopicKeeper(config: config, producer: producer, logger: logger)]
}
