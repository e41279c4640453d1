// signal-enricher: security-signals -> + baseline context -> security-signals.enriched
// (+ suppression-suggestions); unparseable -> security-signals.dlq. Wiring only.
import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselinePostgres
import BaselineService
import BaselineWire

await ServiceRunner.main(service: .signalEnricher) { config, readiness, logger in
    var enrichment = EnrichmentConfiguration()
    enrichment.suggestionMinCommonality = try config.double(.suggestionMinCommonality)
    enrichment.warmupPeriod = Int64(try config.int(.warmupSeconds)) * 1_000_000_000
    var autoSuppress: Set<EventType> = []
    for name in try config.string(.autoSuppress).split(separator: ",") {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard let type = EventType(rawValue: trimmed) else {
            throw BaselineConfiguration.Invalid(description: "\(ConfigurationVariable.autoSuppress.name): unknown event type '\(trimmed)' (exec, file, dns, network)")
        }
        autoSuppress.insert(type)
    }
    enrichment.autoSuppress = autoSuppress
    let enrichmentConfig = enrichment

    // A statement that hangs (a lock, a stuck server) becomes SQLSTATE 57014: retried and
    // reported on readiness instead of stalling the stage silently.
    let statementTimeout = try config.int(.databaseStatementTimeoutSeconds)
    let client = config.database.makeClient(logger: logger, statementTimeout: .seconds(statementTimeout))
    readiness.addCheck("postgresql", ReadinessChecks.database(client))
    let store = SuppressionStore(client: client)
    let cache = ProfileContextCache(store: store, capacity: try config.int(.enricherProfileCacheSize),
                                    logger: logger)
    let suppressions = SuppressionState()
    let producer = try KafkaProducer(configuration: config.kafka, logger: logger)
    try await Topology.ensureTopics(config, producer: producer, logger: logger)
    var configured = SignalEnricher(cache: cache, suppressions: suppressions, store: store, config: enrichmentConfig, logger: logger)
    let tallies = SignalTallies()
    configured.tallies = tallies
    let enricher = configured
    let aggregates = SignalAggregateStore(client: client, logger: logger, maxRowsPerVersion: try config.int(.signalAggregatesPerVersion))
    let maxBatch = try config.int(.batchSize)
    let refreshSeconds = try config.int(.suppressionRefreshSeconds)
    let stage = PreparedService(
        LazyService {
            let consumer = try KafkaConsumer(
                configuration: config.kafka,
                groupID: try config.string(.enricherGroup),
                topics: [Topics.securitySignals], logger: logger)
            // A batch may take up to a statement timeout per query: "no poll" only after twice that.
            readiness.addCheck("kafka", ReadinessChecks.consumer(consumer, pollStaleAfter: .seconds(max(60, 2 * statementTimeout))))
            let stage = TransformStage(name: "signal-enricher", consumer: consumer, producer: producer, maxBatch: maxBatch,
                                       logger: logger, onStart: { readiness.markReady() }, classify: SignalEnricher.classify,
                                       failureCode: SignalEnricher.failureCode, output: { try await enricher.transform($0) })
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
