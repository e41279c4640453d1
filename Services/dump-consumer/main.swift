// dump-consumer: activity-dumps -> validate, normalise -> profile-merge-requests (keyed by profile),
// rejects -> activity-dumps.dlq. Wiring only; the logic is BaselinePipeline.DumpIngestor.
import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselineService
import BaselineWire

await ServiceRunner.main(service: .dumpConsumer) { config, readiness, logger in
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try await Topology.ensureTopics(config, producer: producer, logger: logger)
    let consumer = try KafkaConsumer(
        configuration: config.kafka,
        groupID: try config.string(.dumpConsumerGroup),
        topics: [try config.string(.dumpsTopic)], logger: logger)
    readiness.addCheck("kafka", ReadinessChecks.consumer(consumer))
    let limits = DumpLimits(
        maxPayloadBytes: try config.int(.dumpMaxPayloadBytes),
        maxDecompressedBytes: try config.int(.dumpMaxDecompressedBytes),
        maxDepth: try config.int(.dumpMaxDepth),
        maxNodes: try config.int(.dumpMaxNodes),
        maxStringLength: try config.int(.dumpMaxStringLength),
        maxChildren: try config.int(.dumpMaxChildren))
    let times = EventTimePolicy(
        maxAhead: Int64(try config.int(.eventTimeMaxAheadSeconds)) * EventTimePolicy.second,
        maxBehind: Int64(try config.int(.eventTimeMaxBehindSeconds)) * EventTimePolicy.second)
    var storage = StorageLimits()
    storage.maxOutputBytes = try config.int(.maxOutputBytes)
    let ingestor = DumpIngestor(decoder: DumpDecoder(limits: limits), times: times, storage: storage, logger: logger)
    let stage = TransformStage(name: "dump-consumer", consumer: consumer, producer: producer,
                               maxBatch: try config.int(.batchSize),
                               logger: logger, onStart: { readiness.markReady() }) { ingestor.transform($0) }
    stage.reportHealth = { problem in if let problem { readiness.markNotReady(problem) } else { readiness.markReady() } }
    return [producer, stage, TopicKeeper(config: config, producer: producer, logger: logger)]
}
