import BaselineCore
import BaselinePostgres
import Foundation

/// Per-profile signal counts gathered between flushes (SuppressionRefresher writes them to
/// `profile_signals`). Bounded: past `maxKeys` distinct keys, a signal is counted in its rule's
/// overflow row, so a flood of distinct activities cannot grow memory.
public final class SignalTallies: @unchecked Sendable {
    struct Entry {
        var tally: SignalTally
        var context: BaselineContext
    }

    private let lock = NSLock()
    private var entries: [SignalTally.Key: Entry] = [:]
    public let maxKeys: Int
    /// Keys PostgreSQL can index (a signal's own activity key has no length limit of its own).
    public static let maxNodeKeyBytes = StorageLimits().maxNodeKeyBytes
    public static let maxRuleIDBytes = 256

    public init(maxKeys: Int = 20_000) {
        self.maxKeys = maxKeys
    }

    /// The key a signal is counted under: its own, or its rule's overflow row when the key is too
    /// long to index or there is no room left.
    func placed(_ key: SignalTally.Key, full: Bool) -> SignalTally.Key {
        var key = key
        if key.ruleID.utf8.count > Self.maxRuleIDBytes { key.ruleID = String(key.ruleID.utf8.prefix(Self.maxRuleIDBytes - 1))! + "…" }
        if full || key.nodeKey.utf8.count > Self.maxNodeKeyBytes {
            key.nodeKey = SignalAggregateStore.overflowNode
        }
        return key
    }

    /// Counts one enriched signal of a profiled workload.
    public func add(ruleID: String, result: EnrichmentResult, at now: Date = Date()) {
        let ctx = result.context
        guard ctx.status == .profiled, let profileKey = ctx.profileKey, let imageTag = ctx.imageTag,
              profileKey.utf8.count <= 1000, imageTag.utf8.count <= 255 else { return }
        var key = SignalTally.Key(profileKey: profileKey, imageTag: imageTag, ruleID: ruleID, eventType: ctx.eventType ?? "",
                                  nodeKey: result.nodeKey?.value ?? "")
        var tally = SignalTally(match: ctx.match ?? "none", firstSeen: now, lastSeen: now, lastEnrichment: "")
        tally.signals = 1
        tally.suppressed = ctx.suppressed ? 1 : 0
        tally.anomalous = ctx.anomaly ? 1 : 0
        tally.suggestionID = ctx.suggestionID
        lock.withLock {
            key = placed(key, full: entries[key] == nil && entries.count >= maxKeys)
            if key.nodeKey == SignalAggregateStore.overflowNode { tally.match = "mixed" }
            if var e = entries[key] {
                e.tally.add(tally)
                e.context = ctx
                entries[key] = e
            } else {
                entries[key] = Entry(tally: tally, context: ctx)
            }
        }
    }

    /// Everything counted so far (the last enrichment encoded as JSON); the caller puts it back on failure.
    public func take() -> [SignalTally.Key: SignalTally] {
        let taken = lock.withLock { defer { entries = [:] }; return entries }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [SignalTally.Key: SignalTally] = [:]
        for (key, e) in taken {
            var t = e.tally
            t.lastEnrichment = (try? encoder.encode(e.context)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            out[key] = t
        }
        return out
    }

    public func putBack(_ tallies: [SignalTally.Key: SignalTally]) {
        lock.withLock {
            for (original, t) in tallies {
                let key = placed(original, full: entries[original] == nil && entries.count >= maxKeys)
                if var e = entries[key] {
                    e.tally.add(t)
                    entries[key] = e
                } else if let ctx = try? JSONDecoder().decode(BaselineContext.self, from: Data(t.lastEnrichment.utf8)) {
                    entries[key] = Entry(tally: t, context: ctx)
                }
            }
        }
    }

    public var count: Int { lock.withLock { entries.count } }
}
