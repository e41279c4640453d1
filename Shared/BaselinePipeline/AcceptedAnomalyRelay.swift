import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import ServiceLifecycle

/// Anomalies accepted through the API become profile nodes the only way a profile changes: a
/// message on `profile-merge-requests`, keyed by profile, that the partition's owner applies in
/// order with the profile's dumps (a `ClockTick` carrying the accepted nodes). The merge marks
/// them learned in its transaction; one lost on the way is sent again after `resendAfter`.
public struct AcceptedAnomalyRelay: Service {
    let store: ProfileStore
    let producer: KafkaProducer
    let interval: Duration
    let resendAfter: Duration
    let topic: String
    let logger: Logger

    public init(store: ProfileStore, producer: KafkaProducer, interval: Duration = .seconds(5), resendAfter: Duration = .seconds(120),
                topic: String = Topics.profileMergeRequests, logger: Logger) {
        self.store = store
        self.producer = producer
        self.interval = interval
        self.resendAfter = resendAfter
        self.topic = topic
        self.logger = logger
    }

    /// One round; returns the anomalies sent.
    @discardableResult
    public func relay(profiles: [String]? = nil) async throws -> Int {
        let claimed = try await store.claimAcceptedAnomalies(limit: MergeRequestLimits.maxAcceptedPerTick, resendAfter: resendAfter.seconds, profileKeys: profiles)
        guard !claimed.isEmpty else { return 0 }
        var byVersion: [String: (String, String, [AcceptedAnomaly])] = [:]
        for (key, tag, anomaly) in claimed { byVersion[key + "\u{0}" + tag, default: (key, tag, [])].2.append(anomaly) }
        let now = try await store.databaseNow()
        let records = try byVersion.values.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { key, tag, accepted in
            var tick = ClockTick(profileKey: key, imageTag: tag, at: now)
            tick.accepted = accepted
            return try KafkaRecord(WireCatalog.clockTicks, tick, to: topic)
        }
        _ = try await producer.sendAll(records)
        logger.info("accepted anomalies sent to be learned", metadata: ["anomalies": "\(claimed.count)", "versions": "\(records.count)"])
        return claimed.count
    }

    public func run() async throws {
        try await Periodic(every: interval) {
            do {
                try await relay()
            } catch {
                logger.warning("accepted anomalies not relayed (retried): \(error)")
            }
        }.run()
    }
}
