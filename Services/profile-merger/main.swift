// profile-merger: profile-merge-requests -> merge into profiles in PostgreSQL (exactly-once:
// effect + offsets in one transaction) -> profile-updates, security-anomalies. Wiring only.
import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineService
import BaselineWire

await ServiceRunner.main(service: .profileMerger) { config, readiness, logger in
    let second: Int64 = 1_000_000_000
    var model = ModelConfiguration()
    model.lifecycle.maxNovelty = try config.double(.stableMaxNovelty)
    model.lifecycle.minDumps = try config.int(.stableMinDumps)
    model.lifecycle.minInstances = try config.int(.stableMinInstances)
    model.lifecycle.minQuietPeriod = Int64(try config.int(.stableMinQuietSeconds)) * second
    model.lifecycle.maxLearningPeriod = Int64(try config.int(.maxLearningSeconds)) * second
    model.lifecycle.nodeCap = try config.int(.nodeCap)
    model.warmupPeriod = Int64(try config.int(.warmupSeconds)) * second
    model.miner = PatternMiner(threshold: try config.int(.patternThreshold))
    let limiter = AnomalyRateLimiter(
        limit: try config.int(.anomalyLimit),
        window: Int64(try config.int(.anomalyWindowSeconds)) * second)
    let modelConfig = model
    // dump-consumer's limits, applied again to what the merger reads (the same variables).
    var storage = StorageLimits()
    storage.maxOutputBytes = try config.int(.maxOutputBytes)
    let requestLimits = MergeRequestLimits(
        dump: DumpLimits(
            maxPayloadBytes: try config.int(.dumpMaxPayloadBytes),
            maxDecompressedBytes: try config.int(.dumpMaxDecompressedBytes),
            maxDepth: try config.int(.dumpMaxDepth),
            maxNodes: try config.int(.dumpMaxNodes),
            maxStringLength: try config.int(.dumpMaxStringLength),
            maxChildren: try config.int(.dumpMaxChildren)),
        storage: storage,
        times: EventTimePolicy(
            maxAhead: Int64(try config.int(.eventTimeMaxAheadSeconds)) * EventTimePolicy.second,
            maxBehind: Int64(try config.int(.eventTimeMaxBehindSeconds)) * EventTimePolicy.second))
    let cache = VersionCache(capacity: try config.int(.mergerProfileCacheSize))

    // A statement that hangs (a lock, a stuck server) becomes SQLSTATE 57014: retried and
    // reported on readiness instead of stalling the stage silently.
    let statementTimeout = try config.int(.databaseStatementTimeoutSeconds)
    let client = config.database.makeClient(logger: logger, statementTimeout: .seconds(statementTimeout))
    readiness.addCheck("postgresql", ReadinessChecks.database(client))
    let store = ProfileStore(client: client)
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try await Topology.ensureTopics(config, producer: producer, logger: logger)
    let maxBatch = try config.int(.batchSize)
    let maxVersions = try config.int(.maxVersionsPerProfile)
    let group = try config.string(.mergerGroup)
    let stage = PreparedService(
        LazyService {
            let reference = ConsumerReference()
            let consumer = try KafkaConsumer(
                configuration: config.kafka, groupID: group,
                topics: [Topics.profileMergeRequests],
                onAssign: ProfileMergeStage.storedOffsets(store: store, group: group, cache: cache, bounds: reference,
                                                          logger: logger),
                onRevoke: { _ in cache.removeAll() }, logger: logger)
            reference.set(consumer)
            // A batch may take up to a statement timeout per query: "no poll" only after twice that.
            readiness.addCheck("kafka", ReadinessChecks.consumer(consumer, pollStaleAfter: .seconds(max(60, 2 * statementTimeout))))
            return ProfileMergeStage(consumer: consumer, producer: producer, store: store, cache: cache, model: modelConfig,
                                     anomalyLimit: limiter, consumerGroup: group, maxBatch: maxBatch, maxVersions: maxVersions,
                                     requestLimits: requestLimits, logger: logger,
                                     onStart: { readiness.markReady() },
                                     reportHealth: { problem in
                                         if let problem { readiness.markNotReady(problem) } else { readiness.markReady() }
                                     })
        },
        prepare: { try await Topology.migrate(client, logger: logger) })
    // 0 disables the sweep (e.g. while older mergers that do not know clock ticks still run).
    let sweepInterval = try config.int(.sweepIntervalSeconds)
    let sweeper = ClockSweeper(
        store: store, producer: producer, interval: .seconds(sweepInterval),
        quietFor: .seconds(try config.int(.sweepQuietSeconds)), logger: logger)
    let keeper = TopicKeeper(config: config, producer: producer, logger: logger)
    // Anomalies accepted through profile-api are learned through the merge path.
    let learner = AcceptedAnomalyRelay(
        store: store, producer: producer,
        interval: .seconds(try config.int(.acceptedAnomalyIntervalSeconds)), logger: logger)
    return sweepInterval > 0 ? [client, producer, stage, sweeper, keeper, learner] : [client, producer, stage, keeper, learner]
}
