import BaselineCore
import BaselineKafka
import BaselinePostgres
import Logging

/// profile-merger: the consuming skeleton around `ProfileMergeHandler`.
public typealias ProfileMergeStage = ConsumingStage<ProfileMergeHandler>

extension ConsumingStage where Handler == ProfileMergeHandler {
    public static var defaultConsumerGroup: String { "baseline-profile-merger" }

    public convenience init(consumer: KafkaConsumer, producer: KafkaProducer, store: ProfileStore, cache: VersionCache,
                            model: ModelConfiguration = ModelConfiguration(), anomalyLimit: AnomalyRateLimiter = AnomalyRateLimiter(),
                            consumerGroup: String = defaultConsumerGroup, maxBatch: Int = 500, maxVersions: Int = 20,
                            requestLimits: MergeRequestLimits? = MergeRequestLimits(), logger: Logger, onStart: @escaping @Sendable () -> Void = {},
                            reportHealth: @escaping @Sendable (String?) -> Void = { _ in }) {
        let handler = ProfileMergeHandler(producer: producer, store: store, cache: cache, model: model, anomalyLimit: anomalyLimit,
                                          consumerGroup: consumerGroup, maxVersions: maxVersions, requestLimits: requestLimits,
                                          logger: logger)
        self.init(name: "profile-merger", handler: handler, consumer: consumer, producer: producer, maxBatch: maxBatch, logger: logger,
                  onStart: onStart, reportHealth: reportHealth)
    }

    public var consumerGroup: String { handler.consumerGroup }

    /// The start offsets for newly assigned partitions: those stored in PostgreSQL with the effect,
    /// checked against the log's `bounds` (`StoredPositions`); the cache is cleared first.
    public static func storedOffsets(store: ProfileStore, group: String = defaultConsumerGroup, cache: VersionCache? = nil,
                                     bounds: (any PartitionBounds)? = nil, logger: Logger? = nil) -> KafkaConsumer.AssignHandler {
        StoredPositions.assignHandler(MergePositions(store: store, group: group), bounds: bounds, logger: logger) {
            cache?.removeAll()
        }
    }

    func merge(_ items: [(ProfileMergeHandler.MergeItem, KafkaMessage)], offsets: [StoredOffset], firsts: [StoredOffset] = []) async throws
        -> (ProfileMergeHandler.MergedBatch, [VersionCache.Key: VersionState]) {
        try await handler.merge(items, offsets: offsets, firsts: firsts)
    }

    public func drainAnomalyOutbox(olderThan seconds: Int = 60) async { await handler.drainAnomalyOutbox(olderThan: seconds) }
}
