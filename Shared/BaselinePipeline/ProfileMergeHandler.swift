import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// profile-merger's work. Each batch of merge requests is merged into the profile versions and
/// written in ONE PostgreSQL transaction together with the consumed offsets, so the effect is
/// exactly-once: on every assignment the consumer seeks to the offsets stored in PostgreSQL, and
/// a dump id merged before is a no-op. Merging is deterministic (dump event time, not wall
/// clock), so a replay or a restart mid-batch yields the same profiles as a clean run. The
/// transaction refuses a batch another member has moved past (fencing). After the commit it
/// publishes profile updates and anomalies (an outbox relay publishes what failed); the Kafka
/// group offset the stage commits last is for lag visibility only.
public struct ProfileMergeHandler: StageHandler {
    /// A message of `profile-merge-requests`: a dump to merge, or the clock's re-evaluation.
    public typealias MergeItem = MergeTopicMessage
    /// See `beforeWrite`.
    public typealias BeforeWrite = @Sendable ([(MergeItem, KafkaMessage)]) async -> Void

    public let consumerGroup: String
    let producer: KafkaProducer
    let store: ProfileStore
    let cache: VersionCache
    let model: ModelConfiguration
    let logger: Logger
    /// Versions kept per profile (least recently seen evicted).
    let maxVersions: Int
    let limiter: LockedLimiter
    /// The edge limits applied again to what is read (nil: the topic is trusted; tests of what
    /// gets past them).
    let requestLimits: MergeRequestLimits?
    /// How often the anomaly outbox is drained while running.
    public var relayInterval: Duration = .seconds(30)
    /// A test seam: runs inside the merge transaction once the items are merged in memory, before
    /// anything is written. Holding a batch there is a member that stalls mid-batch.
    public var beforeWrite: BeforeWrite?
    private let merged = Counter(label: "baseline_dumps_merged_total")
    private let duplicates = Counter(label: "baseline_dumps_duplicate_total")
    private let anomaliesCounter = Counter(label: "baseline_anomalies_total")
    private let transitionsCounter = Counter(label: "baseline_state_transitions_total")
    private let evictedCounter = Counter(label: "baseline_versions_evicted_total")

    public init(producer: KafkaProducer, store: ProfileStore, cache: VersionCache, model: ModelConfiguration = ModelConfiguration(),
                anomalyLimit: AnomalyRateLimiter = AnomalyRateLimiter(), consumerGroup: String, maxVersions: Int = 20,
                requestLimits: MergeRequestLimits? = MergeRequestLimits(), logger: Logger) {
        self.requestLimits = requestLimits
        self.producer = producer
        self.store = store
        self.cache = cache
        self.model = model
        self.limiter = LockedLimiter(anomalyLimit)
        self.consumerGroup = consumerGroup
        self.maxVersions = max(1, maxVersions)
        self.logger = logger
    }

    public func decode(_ message: KafkaMessage) -> Result<MergeItem, Rejection> {
        var item: MergeItem
        do {
            // One kind per record: several `baseline-kind` headers are ambiguous, whatever they say.
            let kinds = message.headers.filter { $0.name == WireHeaders.kind }
            if kinds.count > 1 { throw Rejection("unknown_kind", "the record has \(kinds.count) \(WireHeaders.kind) headers") }
            item = try MergeTopicMessage.decode(message.value, kind: kinds.first.map { $0.stringValue ?? "<not UTF-8>" })
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch {
            return .failure(Rejection("invalid_merge_request", "\(error)"))
        }
        // A profile is merged on one partition only (fencing is per partition): a record keyed
        // otherwise could be merged beside its owner and overwrite its work.
        guard message.keyString == item.profileKey else {
            return .failure(Rejection("wrong_partition_key", "the record key is not the profile key \(item.profileKey.prefix(200))"))
        }
        if let requestLimits {
            do {
                switch item {
                case .dump(let request):
                    let now = Timestamps.nanoseconds(Date()) ?? 0
                    let recordTime = message.timestamp.flatMap { ms -> Int64? in
                        let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
                        return overflow || ns <= 0 ? nil : ns
                    }
                    let (admitted, clamped) = try requestLimits.admit(request, valueBytes: message.value.count, recordTime: recordTime, now: now)
                    if clamped {
                        CounterCache.shared.increment("baseline_merge_request_times_clamped_total", [])
                        logger.notice("merge request times implausible against its record time: clamped", metadata: [
                            "dump_id": "\(request.dumpID.prefix(200))",
                            "source": "\(message.topic)/\(message.partition)/\(message.offset)",
                        ])
                    }
                    item = .dump(admitted)
                case .tick(let tick):
                    try requestLimits.admit(tick)
                }
            } catch {
                return .failure(error)
            }
        }
        return .success(item)
    }

    /// Merges and publishes; the cache takes the new states only after the commit succeeded.
    public func handle(_ items: [(MergeItem, KafkaMessage)], span: BatchSpan) async throws -> StageOutput {
        let (result, working) = try await merge(items, offsets: StoredOffset.rows(span.next), firsts: StoredOffset.rows(span.first))
        for (key, state) in working { cache.put(key, state) }
        for key in result.evicted { cache.remove(key) }
        merged.increment(by: result.dumps.count)
        duplicates.increment(by: items.filter { $0.0.isDump }.count - result.dumps.count)
        evictedCounter.increment(by: result.evicted.count)
        transitionsCounter.increment(by: result.transitions.count)
        anomaliesCounter.increment(by: result.anomalies.count)
        await publish(updates: result.updates, anomalies: result.anomalies)
        return StageOutput()
    }

    /// Transient database errors (by SQLSTATE) are retried, data PostgreSQL refuses is
    /// deterministic, and a batch another member moved past is fenced.
    public func classify(_ error: any Error) -> StageFailure {
        if DatabaseFailure.underlying(error) is FencedBatch { return .fenced }
        switch DatabaseFailure.classify(error) {
        case .transient: return .transient
        case .deterministic: return .deterministic
        case .unknown: return .unknown
        }
    }

    public func describe(_ error: any Error) -> String { DatabaseFailure.describe(error) }
    public var deadLetterTopic: String? { Topics.profileMergeRequestsDLQ }
    public var failureCode: String { "merge_failed" }

    /// Stores the offsets of dead-lettered messages (forward only, fenced like a merge).
    public func skip(_ span: BatchSpan) async throws {
        try await store.storeOffsets(StoredOffset.rows(span.next), firsts: StoredOffset.rows(span.first), group: consumerGroup,
                                     logger: logger)
    }

    /// The stored positions with the out-of-range policy of an assignment (`StoredPositions`).
    public func resumePositions(_ partitions: Set<KafkaTopicPartition>, bounds: any PartitionBounds) async throws
        -> [KafkaTopicPartition: Int64] {
        let positions = MergePositions(store: store, group: consumerGroup)
        return try await StoredPositions.checked(try await positions.load(partitions), store: positions, bounds: bounds, logger: logger)
    }

    /// Another member may have merged into any cached version.
    public func fenced() { cache.removeAll() }

    /// Anomalies a previous run committed but did not publish go out first.
    public func started() async { await drainAnomalyOutbox() }

    /// The anomaly relay: an anomaly whose publication failed goes out within a minute, not at the next restart.
    public var companions: [any Service] {
        [Periodic(every: relayInterval) { [self] in await drainAnomalyOutbox(olderThan: 30) }]
    }
}
