import BaselineWire

/// Every environment variable of every service, with its default, range and meaning. Services read
/// their settings only through it (`BaselineConfiguration.int(_:)` and friends refuse a variable
/// the service does not list), docs/configuration.md is its rendering (`markdownTable()`, checked
/// by a test), and the deployment files are checked against it.
public enum ConfigurationRegistry {
    public static func variables(for service: BaselineServiceName) -> [ConfigurationVariable] {
        typealias V = ConfigurationVariable
        let kafka = [V.kafkaBrokers, V.kafkaProperties, V.kafkaPropertiesFile, V.topicPartitions, V.createTopics, V.batchSize]
        let ops = [V.httpHost, V.httpPort(service.defaultHTTPPort), V.logLevel]
        switch service {
        case .dumpConsumer:
            return kafka + ops + [
                V.dumpConsumerGroup, V.dumpsTopic, V.dumpMaxPayloadBytes, V.dumpMaxDecompressedBytes, V.dumpMaxDepth,
                V.dumpMaxNodes, V.dumpMaxStringLength, V.dumpMaxChildren, V.maxOutputBytes, V.eventTimeMaxAheadSeconds,
                V.eventTimeMaxBehindSeconds,
            ]
        case .profileMerger:
            return kafka + [V.databaseURL] + ops + [
                V.mergerGroup, V.stableMaxNovelty, V.stableMinDumps, V.stableMinInstances, V.stableMinQuietSeconds,
                V.maxLearningSeconds, V.nodeCap, V.warmupSeconds, V.maxVersionsPerProfile, V.sweepIntervalSeconds,
                V.sweepQuietSeconds, V.patternThreshold, V.anomalyLimit, V.anomalyWindowSeconds, V.mergerProfileCacheSize,
                V.acceptedAnomalyIntervalSeconds, V.databaseStatementTimeoutSeconds,
                // The edge limits, applied again to what the merger reads (set them as for dump-consumer).
                V.dumpMaxPayloadBytes, V.dumpMaxDecompressedBytes, V.dumpMaxDepth, V.dumpMaxNodes, V.dumpMaxStringLength,
                V.dumpMaxChildren, V.maxOutputBytes, V.eventTimeMaxAheadSeconds, V.eventTimeMaxBehindSeconds,
            ]
        case .signalEnricher:
            return kafka + [V.databaseURL] + ops + [
                V.enricherGroup, V.warmupSeconds, V.enricherProfileCacheSize, V.suggestionMinCommonality, V.autoSuppress,
                V.suppressionRefreshSeconds, V.signalAggregatesPerVersion, V.databaseStatementTimeoutSeconds,
            ]
        case .profileAPI:
            return [V.databaseURL] + ops + [V.apiTokens, V.apiTokensFile, V.apiMaxBodyBytes, V.apiMaxImportBytes, V.apiCORSOrigins,
                                                  V.apiStatementTimeoutSeconds]
        }
    }

    /// The variable of this name as `service` reads it (defaults may differ between services).
    public static func variable(_ name: String, for service: BaselineServiceName) -> ConfigurationVariable? {
        variables(for: service).first { $0.name == name }
    }
}

extension BaselineServiceName {
    /// Whether the service talks to Kafka (it lists BASELINE_KAFKA_BROKERS).
    public var usesKafka: Bool { ConfigurationRegistry.variables(for: self).contains(.kafkaBrokers) }

    /// Port of the ops endpoint (and of profile-api's API) when BASELINE_HTTP_PORT is unset.
    public var defaultHTTPPort: Int {
        switch self {
        case .dumpConsumer: 9401
        case .profileMerger: 9402
        case .signalEnricher: 9403
        case .profileAPI: 9404
        }
    }
}

extension ConfigurationVariable {
    // MARK: Kafka (every service but profile-api)
    public static let kafkaBrokers = Self("BASELINE_KAFKA_BROKERS", default: "127.0.0.1:9092", .text, required: true,
                                       "bootstrap servers, comma-separated (the default is the local stack's)")
    public static let kafkaProperties = Self("BASELINE_KAFKA_PROPERTIES", default: nil, .text,
                                          "extra librdkafka properties, `key=value` separated by commas or newlines; they override Baseline's defaults (SASL, TLS, group timing)")
    public static let kafkaPropertiesFile = Self("BASELINE_KAFKA_PROPERTIES_FILE", default: nil, .text,
                                              "the same, from a file (`#` comments allowed); `BASELINE_KAFKA_PROPERTIES` wins where both set a key")
    public static let topicPartitions = Self("BASELINE_TOPIC_PARTITIONS", default: String(Topics.defaultPartitions), .integer(1...10_000),
                                          "partitions of topics the service creates at start-up when missing (existing topics are left as they are)")
    public static let createTopics = Self("BASELINE_CREATE_TOPICS", default: "true", .boolean,
                                       "create missing topics at start-up and every minute; `false` where a platform or the topic job owns them")
    public static let batchSize = Self("BASELINE_BATCH_SIZE", default: "500", .integer(1...100_000), "maximum messages per batch")

    // MARK: PostgreSQL
    public static let databaseURL = Self("BASELINE_DATABASE_URL", default: "postgres://baseline:baseline@127.0.0.1:55432/baseline", .text,
                                      required: true,
                                      "PostgreSQL URL; `?sslmode=` disable, prefer or require and `max_connections=N` are understood (the default is the local stack's)")
    public static let databaseStatementTimeoutSeconds = Self(
        "BASELINE_DATABASE_STATEMENT_TIMEOUT_SECONDS", default: "60", .integer(1...3600),
        "PostgreSQL cancels a statement that runs longer (SQLSTATE 57014): the stage retries it with backoff and reports it on `/readyz` instead of hanging silently; migrations are exempt")

    // MARK: Ops endpoint and logs (every service)
    public static let httpHost = Self("BASELINE_HTTP_HOST", default: "127.0.0.1", .text,
                                   "address the HTTP endpoint listens on (`0.0.0.0` in containers)")
    static func httpPort(_ port: Int) -> Self {
        Self("BASELINE_HTTP_PORT", default: "\(port)", .integer(0...65_535),
          "port of `/metrics` (Prometheus), `/healthz` and `/readyz` (profile-api: and of its API); `0` disables the ops endpoint")
    }
    public static let logLevel = Self("BASELINE_LOG_LEVEL", default: "info", .text,
                                   "trace, debug, info, notice, warning, error or critical")

    // MARK: dump-consumer
    public static let dumpConsumerGroup = Self("BASELINE_DUMP_CONSUMER_GROUP", default: "baseline-dump-consumer", .text,
                                            "consumer group of dump-consumer")
    public static let dumpsTopic = Self("BASELINE_DUMPS_TOPIC", default: Topics.activityDumps, .text,
                                     "input topic of dump-consumer (e.g. one per agent fleet)")
    public static let dumpMaxPayloadBytes = Self("BASELINE_DUMP_MAX_PAYLOAD_BYTES", default: "16777216", .integer(1...(1 << 30)),
                                              "largest dump accepted, compressed ([dump-formats.md](dump-formats.md))")
    public static let dumpMaxDecompressedBytes = Self("BASELINE_DUMP_MAX_DECOMPRESSED_BYTES", default: "67108864", .integer(1...(1 << 31)),
                                                   "largest dump after gunzip")
    public static let dumpMaxDepth = Self("BASELINE_DUMP_MAX_DEPTH", default: "64", .integer(1...1000), "deepest process tree or JSON nesting")
    public static let dumpMaxNodes = Self("BASELINE_DUMP_MAX_NODES", default: "200000", .integer(1...10_000_000), "most nodes in one dump")
    public static let dumpMaxStringLength = Self("BASELINE_DUMP_MAX_STRING_LENGTH", default: "4096", .integer(16...1_000_000),
                                              "longest string (path, argument, name)")
    public static let dumpMaxChildren = Self("BASELINE_DUMP_MAX_CHILDREN", default: "10000", .integer(1...1_000_000),
                                          "most children of one process")
    public static let maxOutputBytes = Self("BASELINE_MAX_OUTPUT_BYTES", default: "990000", .integer(1024...(1 << 30)),
                                         "merge requests larger than this are rejected (`output_too_large`); raise with the topic's `max.message.bytes` and the producer's `message.max.bytes`")
    public static let eventTimeMaxAheadSeconds = Self("BASELINE_EVENT_TIME_MAX_AHEAD_SECONDS", default: "300", .integer(0...(365 * 86_400)),
                                                   "event times more than this after the Kafka record time are clamped to it")
    public static let eventTimeMaxBehindSeconds = Self("BASELINE_EVENT_TIME_MAX_BEHIND_SECONDS", default: "86400", .integer(0...(365 * 86_400)),
                                                    "event times more than this before the record time are clamped to it")

    // MARK: profile-merger
    public static let mergerGroup = Self("BASELINE_MERGER_GROUP", default: "baseline-profile-merger", .text,
                                      "consumer group of profile-merger (its offsets are stored in PostgreSQL under this name)")
    public static let stableMaxNovelty = Self("BASELINE_STABLE_MAX_NOVELTY", default: "0.01", .number(0...1), "stable when novelty ≤ this …")
    public static let stableMinDumps = Self("BASELINE_STABLE_MIN_DUMPS", default: "10", .integer(1...1_000_000), "… and at least this many dumps …")
    public static let stableMinInstances = Self("BASELINE_STABLE_MIN_INSTANCES", default: "1", .integer(1...1_000_000),
                                             "… from at least this many instances …")
    public static let stableMinQuietSeconds = Self("BASELINE_STABLE_MIN_QUIET_SECONDS", default: "900", .integer(0...31_536_000),
                                                "… and no new node for this long")
    public static let maxLearningSeconds = Self("BASELINE_MAX_LEARNING_SECONDS", default: "172800", .integer(1...31_536_000),
                                             "unstable when still learning after this")
    public static let nodeCap = Self("BASELINE_NODE_CAP", default: "50000", .integer(1...10_000_000),
                                  "per event type: above this many nodes the type turns unstable (`too_large`) and stops learning")
    public static let warmupSeconds = Self("BASELINE_WARMUP_SECONDS", default: "180", .integer(0...86_400),
                                        "activity within this time of the container's start is never an anomaly (and never teaches a stable type); see [model.md](model.md#states)")
    public static let maxVersionsPerProfile = Self("BASELINE_MAX_VERSIONS_PER_PROFILE", default: "20", .integer(1...10_000),
                                                "versions (image tags) kept per profile; the least recently seen is evicted")
    public static let sweepIntervalSeconds = Self("BASELINE_SWEEP_INTERVAL_SECONDS", default: "300", .integer(0...86_400),
                                               "how often quiet learning versions are re-evaluated by the clock; `0` disables (roll out every merger first)")
    public static let sweepQuietSeconds = Self("BASELINE_SWEEP_QUIET_SECONDS", default: "60", .integer(0...86_400),
                                            "… versions with no dump for at least this long")
    public static let patternThreshold = Self("BASELINE_PATTERN_THRESHOLD", default: "5", .integer(2...1_000_000),
                                           "sibling names of one shape before they collapse into a pattern")
    public static let anomalyLimit = Self("BASELINE_ANOMALY_LIMIT", default: "10", .integer(0...1_000_000),
                                       "anomalies published per instance per window …")
    public static let anomalyWindowSeconds = Self("BASELINE_ANOMALY_WINDOW_SECONDS", default: "60", .integer(1...86_400), "… of this length")
    public static let acceptedAnomalyIntervalSeconds = Self("BASELINE_ACCEPTED_ANOMALY_INTERVAL_SECONDS", default: "5", .integer(1...3600),
                                                            "how often anomalies accepted through profile-api are sent to be learned (through `profile-merge-requests`)")
    public static let mergerProfileCacheSize = Self("BASELINE_PROFILE_CACHE_SIZE", default: "1000", .integer(1...1_000_000),
                                                 "profile versions kept in memory")

    // MARK: signal-enricher
    public static let enricherGroup = Self("BASELINE_ENRICHER_GROUP", default: "baseline-signal-enricher", .text,
                                        "consumer group of signal-enricher")
    public static let enricherProfileCacheSize = Self("BASELINE_PROFILE_CACHE_SIZE", default: "10000", .integer(1...10_000_000),
                                                   "profile versions kept in memory")
    public static let suggestionMinCommonality = Self("BASELINE_SUGGESTION_MIN_COMMONALITY", default: "0.8", .number(0...1),
                                                   "suggestions need at least this node commonality")
    public static let autoSuppress = Self("BASELINE_AUTO_SUPPRESS", default: nil, .text,
                                       "event types auto-suppressed in stable profiles, comma-separated, e.g. `exec,dns`")
    public static let suppressionRefreshSeconds = Self("BASELINE_SUPPRESSION_REFRESH_SECONDS", default: "2", .integer(1...3600),
                                                    "how often accepted suppressions are reloaded")

    public static let signalAggregatesPerVersion = Self("BASELINE_SIGNAL_AGGREGATES_PER_VERSION", default: "1000", .integer(10...1_000_000),
                                                        "signal aggregate rows kept per profile version (what does not fit is counted in the rule's `*` row)")

    // MARK: profile-api
    public static let apiTokens = Self("BASELINE_API_TOKENS", default: nil, .text, required: true, alternative: "BASELINE_API_TOKENS_FILE",
                                    "bearer tokens, comma-separated `TOKEN:read` or `TOKEN:write` ([api.md](api.md)); the service does not start without any")
    public static let apiTokensFile = Self("BASELINE_API_TOKENS_FILE", default: nil, .text,
                                        "a file of `TOKEN SCOPE [NAME]` lines (e.g. a mounted secret; both may be given)")
    public static let apiMaxBodyBytes = Self("BASELINE_API_MAX_BODY_BYTES", default: "1048576", .integer(1024...(64 << 20)),
                                          "largest request body (413 beyond)")
    public static let apiMaxImportBytes = Self("BASELINE_API_MAX_IMPORT_BYTES", default: "33554432", .integer(1024...(4 << 30)),
                                           "largest import body")
    public static let apiStatementTimeoutSeconds = Self("BASELINE_API_STATEMENT_TIMEOUT_SECONDS", default: "10", .integer(1...3600),
                                                        "longest a query may run before the request fails (503 `query_timeout`)")
    public static let apiCORSOrigins = Self("BASELINE_API_CORS_ORIGINS", default: nil, .text,
                                         "origins whose pages may call the API, comma-separated; empty: CORS off")

}
