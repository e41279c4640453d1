import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// profile-merger's clock: every `interval`, versions that still learn and have received no dump
/// for `quietFor` get a `ClockTick` on `profile-merge-requests` (keyed by profile), so the partition
/// owner re-evaluates them in order with their dumps: a quiet version turns stable (or unstable past
/// the learning limit) by the clock, with history rows, even when no dump ever arrives again.
public struct ClockSweeper: Service {
    let store: ProfileStore
    let producer: KafkaProducer
    let interval: Duration
    let quietFor: Duration
    let topic: String
    /// Versions ticked per sweep at most; the next sweep goes on after the last one (see `SweepCursor`).
    let pageSize: Int
    let cursor: SweepCursor
    let logger: Logger
    private let ticks = Counter(label: "baseline_clock_ticks_total")
    private let failures = Counter(label: "baseline_clock_sweep_failures_total")

    /// `startAfter`: the version the first sweep starts after (default: the first one).
    public init(store: ProfileStore, producer: KafkaProducer, interval: Duration = .seconds(300), quietFor: Duration = .seconds(60),
                topic: String = Topics.profileMergeRequests, pageSize: Int = 10_000,
                startAfter: (profileKey: String, imageTag: String)? = nil, logger: Logger) {
        self.pageSize = max(1, pageSize)
        self.cursor = SweepCursor(startAfter)
        self.store = store
        self.producer = producer
        self.topic = topic
        self.interval = interval
        self.quietFor = quietFor
        self.logger = logger
    }

    /// One sweep; returns the ticks sent. Without `at`, the round is claimed in PostgreSQL first
    /// (several mergers sweep once per interval between them) and ticks carry the database's
    /// clock, so one host's wrong clock cannot age versions.
    @discardableResult
    public func sweep(at: Int64? = nil, including include: @Sendable (String) -> Bool = { _ in true }) async throws -> Int {
        let now: Int64
        if let at {
            now = at
        } else {
            guard let claimed = try await store.claimPeriodicRun("clock-sweep", minimumGap: max(1, interval.seconds * 0.9)) else { return 0 }
            now = claimed
        }
        let page = try await store.quietLearningVersions(quietSeconds: quietFor.seconds, limit: pageSize, after: cursor.position)
        let versions = page.filter { include($0.profileKey) }
        let records = try versions.map { v in
            try KafkaRecord(WireCatalog.clockTicks, ClockTick(profileKey: v.profileKey, imageTag: v.imageTag, at: now), to: topic)
        }
        if !records.isEmpty { _ = try await producer.sendAll(records) }
        // Only once the page's ticks are sent (a failed sweep sends the same page again). A short
        // page ends the round: the next sweep starts again from the first version.
        cursor.position = page.count < pageSize ? nil : page.last
        if records.isEmpty { return 0 }
        ticks.increment(by: records.count)
        logger.debug("clock sweep", metadata: ["versions": "\(records.count)"])
        return records.count
    }

    public func run() async throws {
        // The first sweep waits one interval: the merger migrates and joins its group meanwhile.
        try await Periodic(every: interval) {
            do {
                try await sweep()
            } catch {
                failures.increment()
                logger.warning("clock sweep failed (retried next interval): \(error)")
            }
        }.run()
    }
}

/// Where the next sweep starts: after the last version the previous one ticked, so that with more
/// quiet versions than a page holds, every one is ticked in turn and none starves behind the first
/// page. Kept in memory: with several mergers, each pages on from where its own last sweep ended.
final class SweepCursor: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (profileKey: String, imageTag: String)?

    init(_ start: (profileKey: String, imageTag: String)?) {
        stored = start
    }

    var position: (profileKey: String, imageTag: String)? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
