import BaselineCore
import BaselineKafka
import BaselinePostgres
import Foundation
import Logging
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
    let logger: Logger

    public init(store: ProfileStore, producer: KafkaProducer, interval: Duration = .seconds(300), quietFor: Duration = .seconds(60),
                topic: String = Topics.profileMergeRequests, logger: Logger) {
        self.store = store
        self.producer = producer
        self.topic = topic
        self.interval = interval
        self.quietFor = quietFor
        self.logger = logger
    }

    /// One sweep; returns the ticks sent.
    @discardableResult
    public func sweep(now: Int64 = Timestamps.nanoseconds(Date()) ?? 0,
                      including include: @Sendable (String) -> Bool = { _ in true }) async throws -> Int {
        let versions = try await store.quietLearningVersions(quietSeconds: Double(quietFor.components.seconds), limit: 10_000)
            .filter { include($0.profileKey) }
        if versions.isEmpty { return 0 }
        let encoder = JSONEncoder()
        let records = try versions.map { v in
            KafkaRecord(topic: topic, key: v.profileKey,
                        value: Array(try encoder.encode(ClockTick(profileKey: v.profileKey, imageTag: v.imageTag, at: now))),
                        headers: [KafkaHeader(ClockTick.kindHeader, ClockTick.kind)])
        }
        _ = try await producer.sendAll(records)
        logger.debug("clock sweep", metadata: ["versions": "\(records.count)"])
        return records.count
    }

    public func run() async throws {
        // The first sweep waits one interval: the merger migrates and joins its group meanwhile.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Cut short by a graceful shutdown: a five-minute sleep must not hold up SIGTERM.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            do {
                try await sweep()
            } catch {
                logger.warning("clock sweep failed (retried next interval): \(error)")
            }
        }
    }
}
