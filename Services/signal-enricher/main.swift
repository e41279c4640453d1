// signal-enricher: security-signals -> + baseline context -> security-signals.enriched
// (+ suppression-suggestions); unparseable -> security-signals.dlq. Wiring only.
import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineService
import BaselineWire

await ServiceRunner.main(serviceName: "signal-enricher", defaultHTTPPort: 9403) { config, readiness, logger in
    var enrichment = EnrichmentConfiguration()
    enrichment.suggestionMinCommonality = try config.double("BASELINE_SUGGESTION_MIN_COMMONALITY", default: 0.8, range: 0...1)
    enrichment.warmupPeriod = Int64(try config.int("BASELINE_WARMUP_SECONDS", default: 180, range: 0...86_400)) * 1_000_000_000
    var autoSuppress: Set<EventType> = []
    for name in config.string("BASELINE_AUTO_SUPPRESS", default: "").split(separator: ",") {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard let type = EventType(rawValue: trimmed) else {
            throw BaselineConfiguration.Invalid(description: "BASELINE_AUTO_SUPPRESS: unknown event type '\(trimmed)' (exec, file, dns, network)")
        }
        autoSuppress.insert(type)
    }
    enrichment.autoSuppress = autoSuppress
    let enrichmentConfig = enrichment

    // A statement that hangs (a lock, a stuck server) becomes SQLSTATE 57014: retried and
    // reported on readiness instead of stalling the stage silently.
    let statementTimeout = try config.int("BASELINE_DATABASE_STATEMENT_TIMEOUT_SECONDS", default: 60, range: 1...3600)
    let client = config.database.makeClient(logger: logger, statementTimeout: .seconds(statementTimeout))
    readiness.addCheck("postgresql", ReadinessChecks.database(client))
    let store = SuppressionStore(client: client)
    let cache = ProfileContextCache(store: store, capacity: try config.int("BASELINE_PROFILE_CACHE_SIZE", default: 10_000, range: 1...10_000_000),
                                    logger: logger)
    let suppressions = SuppressionState()
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try await Topology.ensureTopics(config, producer: producer, logger: logger)
    var configured = SignalEnricher(cache: cache, suppressions: suppressions, store: store, config: enrichmentConfig, logger: logger)
    let tallies = SignalTallies()
    configured.tallies = tallies
    let enricher = configured
    let aggregates = SignalAggregateStore(client: client, logger: logger,
                                          maxRowsPerVersion: try config.int("BASELINE_SIGNAL_AGGREGATES_PER_VERSION", default: 1000, range: 10...1_000_000))
    let maxBatch = try config.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000)
    let refreshSeconds = try config.int("BASELINE_SUPPRESSION_REFRESH_SECONDS", default: 2, range: 1...3600)
    let stage = PreparedService(
        LazyService {
            let consumer = try KafkaConsumer(
                configuration: config.kafka,
                groupID: config.string("BASELINE_ENRICHER_GROUP", default: "baseline-signal-enricher"),
                topics: [Topics.securitySignals], logger: logger)
            readiness.addCheck("kafka", ReadinessChecks.consumer(consumer))
            let stage = TransformStage(name: "signal-enricher", consumer: consumer, producer: producer, maxBatch: maxBatch,
                                       logger: logger, onStart: { readiness.markReady() }, output: { try await enricher.transform($0) })
            stage.reportHealth = { problem in if let problem { readiness.markNotReady(problem) } else { readiness.markReady() } }
            return stage
        },
        prepare: { try await Topology.migrate(client, logger: logger) })
    let listener = try ProfileUpdatesListener(configuration: config.kafka, cache: cache, logger: logger)
    let refresher = SuppressionRefresher(store: store, state: suppressions, interval: .seconds(refreshSeconds), logger: logger,
                                         tallies: tallies, aggregates: aggregates)
    // Suggestions stored but never acknowledged by the broker go out while the service runs.
    let relay = Periodic(every: .seconds(30)) { await enricher.drainSuggestionOutbox(producer: producer) }
    return [client, producer, listener, refresher, stage, relay, TopicKeeper(config: config, producer: producer, logger: logger)]
}
