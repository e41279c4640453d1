import BaselineKafka
import BaselinePostgres
import BaselineWire
import Logging
import PostgresNIO

/// Start-up steps shared by the services.
public enum Topology {
    /// Creates Baseline's topics when missing (idempotent); existing topics are left unchanged.
    public static func ensureTopics(_ config: BaselineConfiguration, producer: KafkaProducer, logger: Logger) async throws {
        guard config.createTopics else { return }
        try await producer.createTopics(Topics.all.map { ($0, config.topicPartitions) })
        logger.info("topics ready", metadata: ["count": "\(Topics.all.count)"])
    }

    /// Applies pending migrations, retrying while the database is not reachable yet.
    public static func migrate(_ client: PostgresClient, logger: Logger, attempts: Int = 30) async throws {
        var attempt = 0
        while true {
            do {
                let applied = try await Migrator().migrate(client, logger: logger)
                logger.info("database schema current", metadata: ["applied": "\(applied)"])
                return
            } catch {
                attempt += 1
                if attempt >= attempts { throw error }
                logger.warning("database not ready (attempt \(attempt)/\(attempts)): \(String(reflecting: error))")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
