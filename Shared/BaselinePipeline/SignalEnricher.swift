import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import Metrics

/// Active suppressions, known suggestions and hit counts shared by the enricher's tasks.
public final class SuppressionState: @unchecked Sendable {
    private let lock = NSLock()
    private var index = SuppressionIndex()
    private var hits: [String: Int] = [:]
    private var knownSuggestions = Set<String>()

    public init() {}

    public var current: SuppressionIndex { lock.withLock { index } }
    public func replace(_ suppressions: [Suppression]) { lock.withLock { index = SuppressionIndex(suppressions) } }
    public func hit(_ id: String) { lock.withLock { hits[id, default: 0] += 1 } }
    public func takeHits() -> [String: Int] { lock.withLock { defer { hits = [:] }; return hits } }
    public func putBackHits(_ h: [String: Int]) { lock.withLock { for (k, v) in h { hits[k, default: 0] += v } } }

    /// Whether this process knows the suggestion was published (bounded memory: forgetting only
    /// costs a database look-up).
    public func isPublished(_ id: String) -> Bool { lock.withLock { knownSuggestions.contains(id) } }

    public func markPublished(_ ids: [String]) {
        lock.withLock {
            if knownSuggestions.count > 100_000 { knownSuggestions.removeAll() }
            knownSuggestions.formUnion(ids)
        }
    }
}

/// signal-enricher's logic: each signal comes out on `security-signals.enriched` byte-for-byte
/// unchanged plus a `baseline` object; a new suppression suggestion goes to
/// `suppression-suggestions` once per (rule, profile, node); what cannot be parsed goes to
/// `security-signals.dlq`. Nothing is dropped: suppressed signals are emitted, marked.
public struct SignalEnricher: Sendable {
    let cache: ProfileContextCache?
    let suppressions: SuppressionState
    let store: SuppressionStore?
    /// Per-profile signal counts, flushed by SuppressionRefresher (nil: not kept).
    public var tallies: SignalTallies?
    let config: EnrichmentConfiguration
    let logger: Logger
    /// The largest enriched signal to produce (librdkafka's default `message.max.bytes` is 1 000 000).
    public var maxOutputBytes = StorageLimits().maxOutputBytes
    private let latency = Timer(label: "baseline_signal_latency_seconds", preferredDisplayUnit: .seconds)
    private let enrichTime = Timer(label: "baseline_signal_enrich_seconds", preferredDisplayUnit: .seconds)

    /// Without a cache (no database) every signal says `no_profile`.
    public init(cache: ProfileContextCache?, suppressions: SuppressionState = SuppressionState(), store: SuppressionStore? = nil,
                config: EnrichmentConfiguration = EnrichmentConfiguration(), logger: Logger) {
        self.cache = cache
        self.suppressions = suppressions
        self.store = store
        self.config = config
        self.logger = logger
    }

    public func transform(_ batch: [KafkaMessage]) async throws -> StageOutput {
        var out: [KafkaRecord] = []
        out.reserveCapacity(batch.count)
        var hits: [String] = []
        var suggested: [String] = []
        var counted: [(String, EnrichmentResult)] = []
        let index = suppressions.current
        for message in batch {
            let started = ContinuousClock.now
            do {
                let signal = try SecuritySignal.parse(message.value)
                let result = try await enrich(signal, index: index)
                let enriched = try EnrichedSignal(original: message.value, baseline: result.context)
                // What could never be produced goes to the dead letters instead of stalling the partition.
                // Headers and key count too (librdkafka's limit is on the whole record).
                let record = try KafkaRecord(WireCatalog.enrichedSignals, enriched, key: message.key,
                                             headers: DeadLetter.passedThrough(message.headers))
                if record.wireBytes > maxOutputBytes {
                    throw Rejection("output_too_large", "the enriched signal is \(record.wireBytes) bytes with its headers; at most \(maxOutputBytes) fit a Kafka message")
                }
                out.append(record)
                if let s = result.suppression { hits.append(s.id) }
                if tallies != nil, let rule = signal.ruleID { counted.append((rule, result)) }
                if let suggestion = result.suggestion, !suppressions.isPublished(suggestion.suggestionID),
                   !suggested.contains(suggestion.suggestionID), try await store?.record(suggestion) ?? true {
                    suggested.append(suggestion.suggestionID)
                    out.append(try KafkaRecord(WireCatalog.suppressionSuggestions, suggestion))
                    CounterCache.shared.increment("baseline_suppression_suggestions_total")
                }
                CounterCache.shared.increment("baseline_signals_enriched_total", [("status", result.context.status.rawValue)])
                if result.context.suppressed { CounterCache.shared.increment("baseline_signals_suppressed_total") }
                if result.context.anomaly { CounterCache.shared.increment("baseline_signals_anomalous_total") }
            } catch let rejection as Rejection {
                CounterCache.shared.increment("baseline_signals_rejected_total", [("reason", rejection.code)])
                out.append(DeadLetter.record(for: message, to: Topics.securitySignalsDLQ, rejection: rejection))
            }
            enrichTime.recordInterval(since: started)
            if let ts = message.timestamp {
                let ms = Int64(Date().timeIntervalSince1970 * 1000).saturatingSubtracting(ts)
                if ms >= 0 && ms < 86_400_000 { latency.recordNanoseconds(ms * 1_000_000) }
            }
        }
        let suppressions = self.suppressions, store = self.store, logger = self.logger, tallies = self.tallies
        return StageOutput(records: out) { [hits, suggested, counted] in
            for id in hits { suppressions.hit(id) }
            for (rule, result) in counted { tallies?.add(ruleID: rule, result: result) }
            guard !suggested.isEmpty else { return }
            suppressions.markPublished(suggested)
            do {
                try await store?.markPublished(suggested)
            } catch {
                // Still unmarked: the relay publishes them again (a duplicate with the same id).
                logger.warning("suggestions published but not marked: \(error)")
            }
        }
    }

    /// What retrying can do about a failed transform: a database that is down is waited for; a
    /// value it refuses (SQLSTATE 22, 23, 54) is the signal's, which is then dead-lettered alone
    /// (`enrich_failed`) while the rest of its batch is delivered; anything else is retried five
    /// times, then treated the same when other signals of the batch went through.
    public static func classify(_ error: any Error) -> StageFailure {
        switch DatabaseFailure.classify(error) {
        case .transient: .transient
        case .deterministic: .deterministic
        case .unknown: .unknown
        }
    }

    /// The dead-letter code of a signal whose enrichment fails alone every time.
    public static let failureCode = "enrich_failed"

    /// Publishes suggestions recorded but never acknowledged (the process stopped, or the broker
    /// failed, in between). Run every 30 s by a `Periodic` relay; one instance drains at a time
    /// (`OutboxLease`).
    public func drainSuggestionOutbox(producer: KafkaProducer) async {
        guard let store else { return }
        do {
            let drained: Bool? = try await OutboxLease.withLease("suggestion-outbox", client: store.client, logger: logger) { conn in
                let pending = try await store.unpublishedSuggestions(olderThan: 30, limit: 1000, on: conn)
                guard !pending.isEmpty else { return true }
                _ = try await producer.sendAll(pending.map { KafkaRecord(topic: Topics.suppressionSuggestions, key: $0.id, value: $0.message) })
                try await store.markPublished(pending.map(\.id), on: conn)
                suppressions.markPublished(pending.map(\.id))
                logger.info("published \(pending.count) suggestion(s) left unpublished")
                return true
            }
            OutboxLeaseSkips.record("suggestion-outbox", leased: drained != nil, logger: logger)
        } catch {
            logger.warning("suggestion outbox not drained: \(error)")
        }
    }

    func enrich(_ signal: SecuritySignal, index: SuppressionIndex) async throws -> EnrichmentResult {
        guard let cache else {
            return EnrichmentResult(context: .noProfile(workload: signal.workload))
        }
        let workload = try await cache.workload(for: signal)
        let matcher: ProfileMatcher? = if let workload {
            try await cache.matcher(profileKey: workload.profileKey, imageTag: workload.imageTag)
        } else { nil }
        let suppressions = self.suppressions
        return Enrichment.enrich(signal, workload: workload, matcher: matcher, suppressions: index, config: config,
                                 isPublished: { suppressions.isPublished($0) })
    }
}
