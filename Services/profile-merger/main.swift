// profile-merger: profile-merge-requests -> merge into profiles in PostgreSQL (exactly-once:
// effect + offsets in one transaction) -> profile-updates. Wiring only.
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineService

await ServiceRunner.main(serviceName: "profile-merger", defaultHTTPPort: 9402) { config, readiness, logger in
    let client = config.database.makeClient(logger: logger)
    let store = ProfileStore(client: client)
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try Topology.ensureTopics(config, producer: producer, logger: logger)
    let maxBatch = try config.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000)
    let stage = PreparedService(
        LazyService {
            let consumer = try KafkaConsumer(
                configuration: config.kafka, groupID: ProfileMergeStage.defaultConsumerGroup,
                topics: [Topics.profileMergeRequests],
                onAssign: ProfileMergeStage.storedOffsets(store: store), logger: logger)
            return ProfileMergeStage(consumer: consumer, producer: producer, store: store, maxBatch: maxBatch,
                                     logger: logger, onStart: { readiness.markReady() })
        },
        prepare: { try await Topology.migrate(client, logger: logger) })
    return [client, stage]
}
