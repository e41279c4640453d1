// profile-merger: profile-merge-requests -> merge into profiles in PostgreSQL (exactly-once:
// effect + offsets in one transaction) -> profile-updates, security-anomalies. Wiring only.
import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineService
import BaselineWire

await ServiceRunner.main(serviceName: "profile-merger", defaultHTTPPort: 9402) { config, readiness, logger in
    let second: Int64 = 1_000_000_000
    var model = ModelConfiguration()
    model.lifecycle.maxNovelty = try config.double("BASELINE_STABLE_MAX_NOVELTY", default: 0.01, range: 0...1)
    model.lifecycle.minDumps = try config.int("BASELINE_STABLE_MIN_DUMPS", default: 10, range: 1...1_000_000)
    model.lifecycle.minInstances = try config.int("BASELINE_STABLE_MIN_INSTANCES", default: 1, range: 1...1_000_000)
    model.lifecycle.minQuietPeriod = Int64(try config.int("BASELINE_STABLE_MIN_QUIET_SECONDS", default: 900, range: 0...31_536_000)) * second
    model.lifecycle.maxLearningPeriod = Int64(try config.int("BASELINE_MAX_LEARNING_SECONDS", default: 172_800, range: 1...31_536_000)) * second
    model.lifecycle.nodeCap = try config.int("BASELINE_NODE_CAP", default: 50_000, range: 1...10_000_000)
    model.warmupPeriod = Int64(try config.int("BASELINE_WARMUP_SECONDS", default: 180, range: 0...86_400)) * second
    model.miner = PatternMiner(threshold: try config.int("BASELINE_PATTERN_THRESHOLD", default: 5, range: 2...1_000_000))
    let limiter = AnomalyRateLimiter(
        limit: try config.int("BASELINE_ANOMALY_LIMIT", default: 10, range: 0...1_000_000),
        window: Int64(try config.int("BASELINE_ANOMALY_WINDOW_SECONDS", default: 60, range: 1...86_400)) * second)
    let modelConfig = model
    let cache = VersionCache(capacity: try config.int("BASELINE_PROFILE_CACHE_SIZE", default: 1000, range: 1...1_000_000))

    // A statement that hangs (a lock, a stuck server) becomes SQLSTATE 57014: retried and
    // reported on readiness instead of stalling the stage silently.
    let statementTimeout = try config.int("BASELINE_DATABASE_STATEMENT_TIMEOUT_SECONDS", default: 60, range: 1...3600)
    let client = config.database.makeClient(logger: logger, statementTimeout: .seconds(statementTimeout))
    readiness.addCheck("postgresql", ReadinessChecks.database(client))
    let store = ProfileStore(client: client)
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try await Topology.ensureTopics(config, producer: producer, logger: logger)
    let maxBatch = try config.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000)
    let maxVersions = try config.int("BASELINE_MAX_VERSIONS_PER_PROFILE", default: 20, range: 1...10_000)
    let stage = PreparedService(
        LazyService {
            let reference = ConsumerReference()
            let consumer = try KafkaConsumer(
                configuration: config.kafka, groupID: ProfileMergeStage.defaultConsumerGroup,
                topics: [Topics.profileMergeRequests],
                onAssign: ProfileMergeStage.storedOffsets(store: store, cache: cache, bounds: reference,
                                                          logger: logger),
                onRevoke: { _ in cache.removeAll() }, logger: logger)
            reference.set(consumer)
            readiness.addCheck("kafka", ReadinessChecks.consumer(consumer))
            return ProfileMergeStage(consumer: consumer, producer: producer, store: store, cache: cache, model: modelConfig,
                                     anomalyLimit: limiter, maxBatch: maxBatch, maxVersions: maxVersions, logger: logger,
                                     onStart: { readiness.markReady() },
                                     reportHealth: { problem in
                                         if let problem { readiness.markNotReady(problem) } else { readiness.markReady() }
                                     })
        },
        prepare: { try await Topology.migrate(client, logger: logger) })
    // 0 disables the sweep (e.g. while older mergers that do not know clock ticks still run).
    let sweepInterval = try config.int("BASELINE_SWEEP_INTERVAL_SECONDS", default: 300, range: 0...86_400)
    let sweeper = ClockSweeper(
        store: store, producer: producer, interval: .seconds(sweepInterval),
        quietFor: .seconds(try config.int("BASELINE_SWEEP_QUIET_SECONDS", default: 60, range: 0...86_400)), logger: logger)
    let keeper = TopicKeeper(config: config, producer: producer, logger: logger)
    // Anomalies accepted through profile-api are learned through the merge path.
    let learner = AcceptedAnomalyRelay(
        store: store, producer: producer,
        interval: .seconds(try config.int("BASELINE_ACCEPTED_ANOMALY_INTERVAL_SECONDS", default: 5, range: 1...3600)), logger: logger)
    return sweepInterval > 0 ? [client, producer, stage, sweeper, keeper, learner] : [client, producer, stage, keeper, learner]
}
