import BaselineCore
import BaselineKafka
import BaselinePostgres
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// profile-merger's loop. Each batch of merge requests is merged into the profile versions and
/// written in ONE PostgreSQL transaction together with the consumed offsets, so the effect is
/// exactly-once: on every assignment the consumer seeks to the offsets stored in PostgreSQL, and
/// a dump id merged before is a no-op. Merging is deterministic (dump event time, not wall
/// clock), so a replay or a restart mid-batch yields the same profiles as a clean run.
/// After the commit it publishes profile updates and anomalies; the Kafka group offset is
/// committed last, for lag visibility only.
public final class ProfileMergeStage: Service, @unchecked Sendable {
    public static let defaultConsumerGroup = "baseline-profile-merger"

    public let consumerGroup: String
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let store: ProfileStore
    let cache: VersionCache
    let model: ModelConfiguration
    let logger: Logger
    let maxBatch: Int
    /// Versions kept per profile (least recently seen evicted).
    let maxVersions: Int
    /// How often the anomaly outbox is drained while running.
    public var relayInterval: Duration = .seconds(30)
    let onStart: @Sendable () -> Void
    /// nil: healthy; else why the stage cannot make progress now (reported on /readyz).
    let reportHealth: @Sendable (String?) -> Void
    private let limiter: LockedLimiter
    private let merged = Counter(label: "baseline_dumps_merged_total")
    private let duplicates = Counter(label: "baseline_dumps_duplicate_total")
    private let invalid = Counter(label: "baseline_merge_requests_invalid_total")
    private let anomaliesCounter = Counter(label: "baseline_anomalies_total")
    private let transitionsCounter = Counter(label: "baseline_state_transitions_total")
    private let evictedCounter = Counter(label: "baseline_versions_evicted_total")
    private let retries = Counter(label: "baseline_merge_retries_total")
    private let deadLettered = Counter(label: "baseline_merge_requests_dead_lettered_total")
    private let fencedCounter = Counter(label: "baseline_merge_batches_fenced_total")
    private let batchTimer = Timer(label: "baseline_merge_batch_seconds", preferredDisplayUnit: .seconds)

    public init(consumer: KafkaConsumer, producer: KafkaProducer, store: ProfileStore, cache: VersionCache,
                model: ModelConfiguration = ModelConfiguration(), anomalyLimit: AnomalyRateLimiter = AnomalyRateLimiter(),
                consumerGroup: String = defaultConsumerGroup, maxBatch: Int = 500, maxVersions: Int = 20,
                logger: Logger, onStart: @escaping @Sendable () -> Void = {},
                reportHealth: @escaping @Sendable (String?) -> Void = { _ in }) {
        self.reportHealth = reportHealth
        self.maxVersions = max(1, maxVersions)
        self.consumer = consumer
        self.consumerGroup = consumerGroup
        self.producer = producer
        self.store = store
        self.cache = cache
        self.model = model
        self.limiter = LockedLimiter(anomalyLimit)
        self.maxBatch = maxBatch
        self.logger = logger
        self.onStart = onStart
    }

    /// The start offsets for newly assigned partitions: those stored with the effect.
    /// A stored offset that does not fit the partition's log is handled by a fixed policy (see
    /// docs/reliability.md): past the end (the topic was re-created, e.g. a broker without
    /// persistence restarted) → start again at the log's first offset and store that, dump ids make
    /// re-reading harmless; before the start (retention removed messages never merged) → start at
    /// the first offset still there; both logged and counted.
    public static func storedOffsets(store: ProfileStore, group: String = defaultConsumerGroup, cache: VersionCache? = nil,
                                     watermarks: (@Sendable (KafkaTopicPartition) async throws -> (low: Int64, high: Int64))? = nil,
                                     logger: Logger? = nil) -> KafkaConsumer.AssignHandler {
        { partitions in
            cache?.removeAll()
            let stored = try await store.loadOffsets(group: group, partitions: partitions.map { ($0.topic, $0.partition) })
            var result: [KafkaTopicPartition: Int64] = [:]
            for s in stored {
                let tp = KafkaTopicPartition(topic: s.topic, partition: s.partition)
                result[tp] = s.nextOffset
                guard let watermarks, let bounds = try? await watermarks(tp) else { continue }
                if s.nextOffset > bounds.high {
                    CounterCache.shared.increment("baseline_offsets_out_of_range_total", [("kind", "past_end")])
                    logger?.warning("stored offset \(s.nextOffset) of \(tp.topic)[\(tp.partition)] is past the log's end \(bounds.high): the topic was re-created; re-reading from \(bounds.low) (merged dump ids are skipped)")
                    try await store.resetOffset(group: group, topic: tp.topic, partition: tp.partition, to: bounds.low)
                    result[tp] = bounds.low
                } else if s.nextOffset < bounds.low {
                    CounterCache.shared.increment("baseline_offsets_out_of_range_total", [("kind", "before_start")])
                    logger?.error("stored offset \(s.nextOffset) of \(tp.topic)[\(tp.partition)] is before the log's start \(bounds.low): \(bounds.low - s.nextOffset) message(s) left the topic (retention) before they were merged")
                    result[tp] = bounds.low
                }
            }
            return result
        }
    }

    public func run() async throws {
        onStart()
        await drainAnomalyOutbox()
        // The outbox relay runs beside the consumer loop: an anomaly whose publication failed goes
        // out within a minute, not at the next restart.
        let relay = Periodic(every: relayInterval) { [self] in await drainAnomalyOutbox(olderThan: 30) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            defer { group.cancelAll() }
            try await consumer.runUntilShutdown(maxMessages: maxBatch, logger: logger) { try await process($0) }
        }
    }

    public func process(_ batch: [KafkaMessage]) async throws {
        let started = ContinuousClock.now
        var requests: [(MergeItem, KafkaMessage)] = []
        var deadLetters: [KafkaRecord] = []
        let decoder = JSONDecoder()
        for message in batch {
            do {
                if message.header(ClockTick.kindHeader)?.stringValue == ClockTick.kind {
                    requests.append((.tick(try decoder.decode(ClockTick.self, from: Data(message.value))), message))
                } else {
                    requests.append((.dump(try decoder.decode(MergeRequest.self, from: Data(message.value))), message))
                }
            } catch {
                invalid.increment()
                deadLetters.append(DeadLetter.record(for: message, to: Topics.profileMergeRequestsDLQ,
                                                     rejection: Rejection("invalid_merge_request", "\(error)")))
            }
        }
        // Dead letters first: once the transaction stores the offsets they would never be retried.
        if !deadLetters.isEmpty { try await retrying("dead letters", classify: false) { _ = try await self.producer.sendAll(deadLetters) } }
        let offsets = Self.offsets(KafkaConsumer.nextOffsets(after: batch))
        let firsts = Self.firstOffsets(batch)
        do {
            do {
                try await mergeRetrying(requests, offsets: offsets, firsts: firsts)
            } catch let failure as DeterministicFailure {
                logger.warning("merge batch failed deterministically, merging its \(requests.count) messages one by one: \(failure.reason)")
                try await isolate(requests, batchOffsets: offsets, batchFirsts: firsts)
            }
        } catch let fenced as FencedBatch {
            try await fence(fenced, batch: batch)
            return
        }
        reportHealth(nil)
        do {
            try await consumer.commit(after: batch)  // lag visibility only: PostgreSQL holds the offsets
        } catch {
            logger.notice("Kafka offset commit failed (offsets are stored in PostgreSQL): \(error)")
        }
        batchTimer.recordInterval(since: started)
    }

    /// Merges and publishes; transient database errors are retried with capped, jittered backoff
    /// while the service reports not ready; a deterministic one surfaces as `DeterministicFailure`.
    func mergeRetrying(_ items: [(MergeItem, KafkaMessage)], offsets: [StoredOffset], firsts: [StoredOffset],
                       giveUpOnUnknown: Bool = true) async throws {
        let (result, working) = try await retrying("merge", giveUpOnUnknown: giveUpOnUnknown) {
            try await self.merge(items, offsets: offsets, firsts: firsts)
        }
        for (key, state) in working { cache.put(key, state) }  // only after the commit succeeded
        for key in result.evicted { cache.remove(key) }
        merged.increment(by: result.dumps.count)
        duplicates.increment(by: items.filter { $0.0.isDump }.count - result.dumps.count)
        evictedCounter.increment(by: result.evicted.count)
        transitionsCounter.increment(by: result.transitions.count)
        anomaliesCounter.increment(by: result.anomalies.count)
        await publish(updates: result.updates, anomalies: result.anomalies)
    }

    /// One message at a time, so the one that fails every time is dead-lettered with its reason and
    /// its offset stored, and the partition moves on.
    func isolate(_ items: [(MergeItem, KafkaMessage)], batchOffsets: [StoredOffset], batchFirsts: [StoredOffset]) async throws {
        var merged = 0
        for (item, message) in items {
            let next = [StoredOffset(topic: message.topic, partition: message.partition, nextOffset: message.offset + 1)]
            let first = [StoredOffset(topic: message.topic, partition: message.partition, nextOffset: message.offset)]
            do {
                do {
                    try await mergeRetrying([(item, message)], offsets: next, firsts: first)
                    merged += 1
                    continue
                } catch let failure as DeterministicFailure where failure.kind == .unknown && merged == 0 {
                    // An unexplained failure while nothing else merged either looks like the database,
                    // not this message: keep retrying (not ready) rather than dead-letter good input.
                    logger.warning("merge failing without evidence against this message; retrying it: \(failure.reason)")
                    try await mergeRetrying([(item, message)], offsets: next, firsts: first, giveUpOnUnknown: false)
                    merged += 1
                    continue
                }
            } catch let failure as DeterministicFailure {
                deadLettered.increment()
                logger.error("merge request dead-lettered", metadata: [
                    "source": "\(message.topic)/\(message.partition)/\(message.offset)", "reason": "\(failure.reason)",
                ])
                let record = DeadLetter.record(for: message, to: Topics.profileMergeRequestsDLQ,
                                               rejection: Rejection("merge_failed", failure.reason))
                try await retrying("dead letter", classify: false) { _ = try await self.producer.sendAll([record]) }
                try await retrying("offsets") {
                    try await self.store.storeOffsets(next, firsts: first, group: self.consumerGroup, logger: self.logger)
                }
            }
        }
        // Offsets of messages that never reached the merge (invalid ones, already dead-lettered).
        try await retrying("offsets") {
            try await self.store.storeOffsets(batchOffsets, firsts: [], group: self.consumerGroup, logger: self.logger)
        }
    }

    /// Another member owns a partition of this batch now: drop what this one holds and go back to
    /// the stored offsets of the partitions it still has (nothing was written).
    func fence(_ fenced: FencedBatch, batch: [KafkaMessage]) async throws {
        fencedCounter.increment()
        logger.warning("\(fenced)")
        cache.removeAll()
        let assigned = consumer.assignment
        let partitions = Set(batch.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) }).filter(assigned.contains)
        let stored = try await retrying("offsets") {
            try await self.store.loadOffsets(group: self.consumerGroup, partitions: partitions.map { ($0.topic, $0.partition) })
        }
        // Every still-assigned partition goes back: to its stored offset, else to this batch's start.
        var positions: [KafkaTopicPartition: Int64] = [:]
        for f in Self.firstOffsets(batch) where partitions.contains(KafkaTopicPartition(topic: f.topic, partition: f.partition)) {
            positions[KafkaTopicPartition(topic: f.topic, partition: f.partition)] = f.nextOffset
        }
        for s in stored where partitions.contains(KafkaTopicPartition(topic: s.topic, partition: s.partition)) {
            positions[KafkaTopicPartition(topic: s.topic, partition: s.partition)] = s.nextOffset
        }
        if !positions.isEmpty { try await consumer.seek(positions) }
    }

    struct DeterministicFailure: Error {
        let reason: String
        var kind: DatabaseFailure.Kind = .deterministic
    }

    /// Runs `body` until it succeeds: transient failures wait (200 ms doubling to 30 s, ±25 %
    /// jitter) while the service says why it is not ready; deterministic ones, or unknown ones
    /// after five attempts, are rethrown as `DeterministicFailure`; fencing is rethrown as is.
    func retrying<T>(_ what: String, giveUpOnUnknown: Bool = true, classify: Bool = true,
                     _ body: () async throws -> T) async throws -> T {
        var backoff = Backoff()
        var attempt = 0
        while true {
            do {
                let value = try await body()
                if attempt > 0 { reportHealth(nil) }
                return value
            } catch {
                if let fenced = DatabaseFailure.underlying(error) as? FencedBatch { throw fenced }
                attempt += 1
                // Producer sends are never data problems of the input: they are always retried.
                let kind = classify ? DatabaseFailure.classify(error) : .transient
                let reason = DatabaseFailure.describe(error)
                if kind == .deterministic { throw DeterministicFailure(reason: reason, kind: kind) }
                if kind == .unknown && giveUpOnUnknown && attempt >= 5 { throw DeterministicFailure(reason: reason, kind: kind) }
                if consumer.isStopping || Task.isCancelled || Task.isShuttingDownGracefully { throw error }
                retries.increment()
                reportHealth("\(what) failing (attempt \(attempt)): \(reason)")
                logger.warning("\(what) failed (\(kind.rawValue), attempt \(attempt)), retrying in \(backoff.delay): \(reason)")
                guard await backoff.wait() else { throw error }
            }
        }
    }

    static func offsets(_ next: [KafkaTopicPartition: Int64]) -> [StoredOffset] {
        next.map { StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value) }
    }

    static func firstOffsets(_ batch: [KafkaMessage]) -> [StoredOffset] {
        var first: [KafkaTopicPartition: Int64] = [:]
        for m in batch {
            let tp = KafkaTopicPartition(topic: m.topic, partition: m.partition)
            first[tp] = min(first[tp] ?? m.offset, m.offset)
        }
        return offsets(first)
    }

    struct MergedBatch {
        var dumps: [MergedDumpRow]
        var transitions: [LifecycleTransition]
        var anomalies: [Anomaly]
        var updates: [ProfileUpdate]
        var evicted: [VersionCache.Key]
    }

    /// A message of `profile-merge-requests`: a dump to merge, or the clock's re-evaluation.
    enum MergeItem {
        case dump(MergeRequest)
        case tick(ClockTick)

        var key: VersionCache.Key {
            switch self {
            case .dump(let r): VersionCache.Key(profileKey: r.profileKey, imageTag: r.dump.workload.imageTag)
            case .tick(let t): VersionCache.Key(profileKey: t.profileKey, imageTag: t.imageTag)
            }
        }

        var isDump: Bool { if case .dump = self { true } else { false } }
    }

    /// Merges in memory on copies of the cached versions and writes the result in one transaction.
    func merge(_ items: [(MergeItem, KafkaMessage)], offsets: [StoredOffset], firsts: [StoredOffset] = []) async throws
        -> (MergedBatch, [VersionCache.Key: VersionState]) {
        let model = self.model, cache = self.cache, logger = self.logger, group = consumerGroup, maxVersions = self.maxVersions
        do {
            return try await mergeTransaction(items, offsets: offsets, firsts: firsts, model: model, cache: cache, logger: logger,
                                              group: group, maxVersions: maxVersions)
        } catch {
            // Fencing is a decision, not a database failure: surface it unwrapped.
            if let fenced = DatabaseFailure.underlying(error) as? FencedBatch { throw fenced }
            throw error
        }
    }

    func mergeTransaction(_ items: [(MergeItem, KafkaMessage)], offsets: [StoredOffset], firsts: [StoredOffset], model: ModelConfiguration,
                          cache: VersionCache, logger: Logger, group: String, maxVersions: Int) async throws
        -> (MergedBatch, [VersionCache.Key: VersionState]) {
        try await store.client.withTransaction(logger: logger) { conn in
            let dumpIDs = items.compactMap { if case .dump(let r) = $0.0 { r.dumpID } else { nil } }
            let known = dumpIDs.isEmpty ? [] : try await ProfileStore.mergedDumpIDs(dumpIDs, conn: conn, logger: logger)
            var seen = known
            var working: [VersionCache.Key: VersionState] = [:]
            var touched: [VersionCache.Key: ProfileBatch.TouchedVersion] = [:]
            var order: [VersionCache.Key] = []
            var changed = Set<VersionCache.Key>()
            var batch = ProfileBatch()
            batch.offsets = offsets
            batch.firstOffsets = firsts
            for (item, message) in items {
                if case .dump(let request) = item, !seen.insert(request.dumpID).inserted { continue }
                let key = item.key
                if working[key] == nil {
                    var loaded = cache.get(key)
                    if loaded == nil {
                        loaded = try await ProfileStore.loadVersion(profileKey: key.profileKey, imageTag: key.imageTag,
                                                                    miner: model.miner, conn: conn, logger: logger)
                    }
                    // A tick for a version that no longer exists (evicted) has nothing to evaluate.
                    if loaded == nil, case .tick = item { continue }
                    var state = loaded ?? VersionState(version: ProfileVersion(profileKey: key.profileKey, imageTag: key.imageTag,
                                                                               miner: model.miner))
                    // Overrides are re-read once per batch, so a change applies without a restart.
                    state.overrides = try await ProfileStore.loadOverrides(profileKey: key.profileKey, conn: conn, logger: logger)
                    working[key] = state
                    touched[key] = .init(state: working[key]!, touched: [], removed: [], instances: [], dumpsMerged: false)
                    order.append(key)
                }
                switch item {
                case .dump(let request):
                    let r = ProfileMerge.apply(request, to: &working[key]!, config: model)
                    touched[key]!.touched.formUnion(r.outcome.touched)
                    touched[key]!.touched.subtract(r.outcome.removed)
                    touched[key]!.removed.formUnion(r.outcome.removed)
                    touched[key]!.instances.insert(r.outcome.instance)
                    touched[key]!.dumpsMerged = true
                    batch.dumps.append(MergedDumpRow(request: request, sourceTopic: message.topic, sourcePartition: message.partition,
                                                     sourceOffset: message.offset, newNodes: r.outcome.learned.count,
                                                     warmingUp: r.warmingUp))
                    batch.transitions += r.transitions.map { ($0, key.profileKey, key.imageTag, request.dumpID) }
                    batch.anomalies += r.anomalies
                case .tick(let tick):
                    if let named = tick.accepted, !named.isEmpty {
                        let accepted = try await ProfileStore.acceptedToLearn(named.map(\.anomalyID), profileKey: key.profileKey,
                                                                             imageTag: key.imageTag, conn: conn, logger: logger)
                        let learned = ProfileMerge.learnAccepted(accepted, into: &working[key]!)
                        batch.learnedAnomalies += accepted.map(\.anomalyID)
                        if !learned.touched.isEmpty {
                            touched[key]!.touched.formUnion(learned.touched)
                            changed.insert(key)
                        }
                    }
                    let now = max(working[key]!.version.clock, tick.at)
                    let transitions = ProfileMerge.evaluate(&working[key]!, at: now, config: model)
                    batch.transitions += transitions.map { ($0, key.profileKey, key.imageTag, nil) }
                    if !transitions.isEmpty { changed.insert(key) }
                }
                if item.isDump { changed.insert(key) }
            }
            // A tick that changed nothing writes nothing (no revision, no profile update): only offsets.
            order.removeAll { !changed.contains($0) }
            working = working.filter { changed.contains($0.key) }
            batch.versions = order.map { key in
                var t = touched[key]!
                t.state = working[key]!
                return t
            }
            let updates = try await ProfileStore.write(batch, group: group, lifecycle: model.lifecycle, conn: conn, logger: logger)
            var evicted: [VersionCache.Key] = []
            for profileKey in Set(order.map(\.profileKey)).sorted() {
                let merged = order.filter { $0.profileKey == profileKey && touched[$0]!.dumpsMerged }.map(\.imageTag)
                for tag in try await ProfileStore.evictVersions(profileKey: profileKey, keep: maxVersions, protected: merged,
                                                                conn: conn, logger: logger) {
                    let key = VersionCache.Key(profileKey: profileKey, imageTag: tag)
                    evicted.append(key)
                    working.removeValue(forKey: key)
                    logger.info("version evicted: over \(maxVersions) versions for \(profileKey)", metadata: ["image_tag": "\(tag)"])
                }
            }
            let merged = MergedBatch(dumps: batch.dumps, transitions: batch.transitions.map(\.transition),
                                     anomalies: batch.anomalies, updates: updates, evicted: evicted)
            return (merged, working)
        }
    }

    /// Publishes anomalies committed but not published (the broker was down, or the process stopped
    /// in between) once they are `olderThan` seconds old (younger ones may be in another instance's
    /// hands). Run at start and then every `relayInterval` by a `Periodic` relay. At-least-once: consumers may
    /// see an anomaly twice and de-duplicate on `anomaly_id`.
    public func drainAnomalyOutbox(olderThan seconds: Int = 60) async {
        do {
            let pending = try await ProfileStore.unpublishedAnomalies(olderThan: seconds, limit: 10_000, client: store.client)
            if pending.isEmpty { return }
            logger.info("publishing \(pending.count) anomalies left unpublished by a previous run")
            // The limiter counted these when they were first published; counting them again would
            // mark them rate-limited and drop them from the outbox for good.
            await publish(updates: [], anomalies: pending, applyLimit: false)
        } catch {
            logger.warning("anomaly outbox not drained: \(error)")
        }
    }

    /// Publishes profile updates and (rate-limited) anomalies after the commit. Anomalies are
    /// marked published once the broker acknowledged them, or rate-limited; PostgreSQL keeps
    /// every one, and those left unmarked are published at the next start.
    func publish(updates: [ProfileUpdate], anomalies: [Anomaly], applyLimit: Bool = true) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var records = updates.compactMap { u in
            (try? encoder.encode(u)).map { KafkaRecord(topic: Topics.profileUpdates, key: u.profileKey, value: Array($0)) }
        }
        var allowed: [Anomaly] = [], limited: [String] = []
        for a in anomalies {
            if !applyLimit || limiter.allow(instance: a.instanceID, at: a.at) { allowed.append(a) } else { limited.append(a.id) }
        }
        records += allowed.compactMap { a in
            (try? encoder.encode(AnomalyEvent(a))).map { KafkaRecord(topic: Topics.securityAnomalies, key: a.profileKey, value: Array($0)) }
        }
        var published: [String] = []
        if !records.isEmpty {
            do {
                _ = try await producer.sendAll(records)
                published = allowed.map(\.id)
            } catch {
                // The effect is committed; caches re-read PostgreSQL and the relay publishes the anomalies later.
                logger.warning("profile updates/anomalies not published (the outbox relay retries): \(error)")
            }
        }
        do {
            try await ProfileStore.markAnomalies(published: published, rateLimited: limited, client: store.client)
        } catch {
            // Unmarked anomalies are published again by the relay: duplicates, never losses (ids de-duplicate).
            logger.warning("anomalies not marked published: \(error)")
        }
    }
}

/// The rate limiter behind a lock (the stage processes one batch at a time; the lock keeps it Sendable).
final class LockedLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var limiter: AnomalyRateLimiter
    init(_ limiter: AnomalyRateLimiter) { self.limiter = limiter }
    func allow(instance: String, at time: Int64) -> Bool { lock.withLock { limiter.allow(instance: instance, at: time) } }
}
