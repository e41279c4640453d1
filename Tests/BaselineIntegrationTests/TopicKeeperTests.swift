import BaselineKafka
import BaselineService
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// With BASELINE_CREATE_TOPICS=false (the deployments: a job owns the topics) the keeper has
/// nothing to do, yet must keep running: a service that returns ends the whole service group.
@Suite struct TopicKeeperTests {
    @Test func aKeeperWithNothingToKeepRunsUntilShutdown() async throws {
        let config = try BaselineConfiguration.fromEnvironment(service: .dumpConsumer, environment: ["BASELINE_CREATE_TOPICS": "false"])
        #expect(!config.createTopics)
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        defer { producer.triggerClose() }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: TopicKeeper(config: config, producer: producer, logger: TestStack.logger))],
            logger: TestStack.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(500))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()  // throws "a service has finished unexpectedly" if the keeper returned
        }
    }

    @Test func configurationDescriptionsHideSecrets() throws {
        let config = try BaselineConfiguration.fromEnvironment(service: .profileMerger, environment: [
            "BASELINE_KAFKA_PROPERTIES": "sasl.username=baseline,sasl.password=kafka-secret",
            "BASELINE_DATABASE_URL": "postgres://baseline:db-secret@db:5432/baseline",
        ])
        for text in [String(describing: config), String(reflecting: config), "\(config)"] {
            #expect(!text.contains("kafka-secret") && !text.contains("db-secret"), "\(text)")
            #expect(text.contains("sasl.password"), "property names stay visible")
        }
    }
}
