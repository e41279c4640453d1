import BaselineKafka
import PostgresNIO

/// The checks every service registers on its `Readiness`.
public enum ReadinessChecks {
    /// Ready once the member joined its group (a standby without partitions is ready too), reaches
    /// its brokers, fetches every partition it was given (start offsets answered) and its loop
    /// polled within `pollStaleAfter` (a loop stuck in a batch consumes nothing).
    public static func consumer(_ consumer: KafkaConsumer, pollStaleAfter: Duration = .seconds(60)) -> Readiness.Check {
        {
            let health = consumer.health
            if health.isClosed { return "consumer closed" }
            if health.brokersDown { return "all brokers down" + (health.lastError.map { " (\($0))" } ?? "") }
            // Before the first rebalance the member has not joined its group yet. After it, a member
            // without partitions (more members than partitions) is a ready standby.
            if consumer.rebalanceCount == 0 { return "joining the consumer group" }
            // Assigned partitions are not fetched until their start offsets are known.
            if consumer.isAwaitingStartOffsets { return "awaiting start offsets" }
            if let last = consumer.lastSuccessfulPoll {
                let idle = ContinuousClock.now - last
                if idle > pollStaleAfter { return "no poll for \(idle.components.seconds) s" }
            }
            return nil
        }
    }

    /// Ready while PostgreSQL answers a trivial query within a few seconds.
    public static func database(_ client: PostgresClient) -> Readiness.Check {
        {
            do {
                return try await withThrowingTaskGroup(of: String?.self) { group in
                    group.addTask {
                        for try await _ in try await client.query("SELECT 1").decode(Int32.self) {}
                        return nil
                    }
                    group.addTask {
                        try await Task.sleep(for: .seconds(3))
                        return "database did not answer within 3 s"
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
            } catch {
                return "database unreachable: \(error)"
            }
        }
    }
}
