import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import PostgresNIO

extension ProfileMergeHandler {
    struct MergedBatch {
        var dumps: [MergedDumpRow]
        var transitions: [LifecycleTransition]
        var anomalies: [Anomaly]
        var updates: [ProfileUpdate]
        var evicted: [VersionCache.Key]
    }

    /// Merges in memory on copies of the cached versions and writes the result in one transaction
    /// with the offsets, unless another member moved a partition past `firsts` (`FencedBatch`).
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
        let beforeWrite = self.beforeWrite
        return try await store.client.withTransaction(logger: logger) { conn in
            let dumps = items.compactMap { if case .dump(let r) = $0.0 { MergedDumpKey(r) } else { nil } }
            let known = dumps.isEmpty ? [] : try await ProfileStore.mergedDumps(dumps, conn: conn, logger: logger)
            var seen = known
            var working: [VersionCache.Key: VersionState] = [:]
            var touched: [VersionCache.Key: ProfileBatch.TouchedVersion] = [:]
            var order: [VersionCache.Key] = []
            var changed = Set<VersionCache.Key>()
            var batch = ProfileBatch()
            batch.offsets = offsets
            batch.firstOffsets = firsts
            for (item, message) in items {
                if case .dump(let request) = item, !seen.insert(MergedDumpKey(request)).inserted { continue }
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
                    // A tick's time is the database's (sweeper, relay); one from the future would make a
                    // version "stable since" a moment no dump reaches, so nothing would ever freeze.
                    let now = max(working[key]!.version.clock, min(tick.at, try await ProfileStore.databaseNow(conn: conn, logger: logger)))
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
            if let beforeWrite { await beforeWrite(items) }
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
}
