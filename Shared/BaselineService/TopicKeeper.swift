import BaselineKafka
import BaselinePipeline
import BaselineWire
import Logging
import ServiceLifecycle

/// Re-creates Baseline's topics while the service runs (a broker that lost them — a restart
/// without persistence, an operator's mistake — gets them back within a minute), when the service
/// creates topics at all (`BASELINE_CREATE_TOPICS`).
public struct TopicKeeper: Service {
    let config: BaselineConfiguration
    let producer: KafkaProducer
    let interval: Duration
    let logger: Logger

    public init(config: BaselineConfiguration, producer: KafkaProducer, interval: Duration = .seconds(60), logger: Logger) {
        self.config = config
        self.producer = producer
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard config.createTopics else {
            // Nothing to keep, but returning would end the service group (ServiceGroup treats a
            // service that finishes as a failure): wait for shutdown instead.
            try? await gracefulShutdown()
            return
        }
        try await Periodic(every: interval) {
            do {
                try await producer.createTopics(Topics.all.map { ($0, config.topicPartitions) })
            } catch {
                logger.warning("topics not checked (retried next interval): \(error)")
            }
        }.run()
    }
}
