import ArgumentParser
import BaselineKafka
import BaselineWire
import BaselinePostgres
import Foundation
import Logging
import PostgresNIO

/// The local stack as the bench uses it: a broker of its own, whose pipeline topics it deletes and
/// creates again (empty) before measuring, and a database it drops and creates again.
struct BenchStack: Sendable {
    var kafka: KafkaConfiguration
    /// The server's address and credentials, as given (its database part is replaced).
    var databaseURL: String
    var databaseName: String
    var partitions: Int32
    var binDirectory: String
    var logDirectory: String
    /// The services' BASELINE_BATCH_SIZE when set: a quick run's backlogs are smaller than one
    /// default batch (500), and a backlog merged in one transaction has no rate.
    var batchSize: Int? = nil

    /// Written by the bench's passthrough: the same Kafka layer, no enrichment.
    static let passthroughTopic = "bench.passthrough"
    static var topics: [String] { Topics.all + [passthroughTopic] }

    /// Every broker address is a loopback one.
    var brokersAreLocal: Bool {
        kafka.brokers.split(separator: ",").allSatisfy { address in
            let host = address.split(separator: ":").dropLast().joined(separator: ":").trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            return ["127.0.0.1", "localhost", "::1"].contains(host.lowercased())
        }
    }

    /// The database the bench drops must be one of its own: named for the bench, never the one the
    /// URL names (the pipeline's).
    func checkBenchDatabaseName() throws {
        let urlDatabase = URLComponents(string: databaseURL)?.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard databaseName.contains("bench"), databaseName != urlDatabase else {
            throw ValidationError("--bench-database '\(databaseName)' is dropped and created again: it must contain 'bench' and differ from the database of the URL ('\(urlDatabase ?? "")')")
        }
    }

    /// The bench database's URL.
    var benchDatabaseURL: String { Self.replacingDatabase(in: databaseURL, with: databaseName) }

    /// The environment of a service child: this process's, pointed at the bench's broker and database.
    func serviceEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["BASELINE_KAFKA_BROKERS"] = kafka.brokers
        env["BASELINE_KAFKA_PROPERTIES"] = kafka.properties.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
        env["BASELINE_KAFKA_PROPERTIES_FILE"] = nil
        env["BASELINE_DATABASE_URL"] = benchDatabaseURL
        env["BASELINE_HTTP_PORT"] = "0"
        env["BASELINE_LOG_LEVEL"] = "warning"
        env["BASELINE_TOPIC_PARTITIONS"] = String(partitions)
        if let batchSize { env["BASELINE_BATCH_SIZE"] = String(batchSize) }
        env.merge(extra) { $1 }
        return env
    }

    func start(_ service: String, _ extra: [String: String] = [:]) throws -> ServiceProcess {
        try ServiceProcess(service, binDirectory: binDirectory, environment: serviceEnvironment(extra), logDirectory: logDirectory)
    }

    /// One of several instances of a service (its own log file, its ops endpoint on a free port for /metrics).
    func startInstance(_ service: String, label: String, _ extra: [String: String] = [:]) throws -> ServiceProcess {
        try ServiceProcess(service, binDirectory: binDirectory, environment: serviceEnvironment(extra), logDirectory: logDirectory,
                           label: label, metricsPort: try ServiceProcess.freePort())
    }

    // MARK: - Topics

    /// Deletes the pipeline's topics and creates them again, then checks they are empty.
    func resetTopics(_ producer: KafkaProducer) async throws {
        let names = Self.topics
        for _ in 0..<5 {
            try await producer.deleteTopics(names)
            try await Task.sleep(for: .milliseconds(300))
            try await producer.createTopics(names.map { ($0, partitions) })
            if try await messages(in: [Topics.activityDumps, Topics.securitySignals, Topics.securitySignalsEnriched,
                                       Topics.profileMergeRequests, Self.passthroughTopic]) == 0 { return }
            try await Task.sleep(for: .seconds(1))
        }
        throw ValidationError("the broker at \(kafka.brokers) still holds messages after deleting and re-creating the topics")
    }

    /// Messages held by the topics' partitions (high − low watermark).
    func messages(in topics: [String]) async throws -> Int64 {
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "bench-probe-\(UInt32.random(in: 0 ... .max))",
                                         topics: topics, logger: cliLogger)
        var total: Int64 = 0
        do {
            for topic in topics {
                // Partitions 0, 1, … until the broker knows no more (topics differ; a missing one holds nothing).
                for p in Int32(0)..<1024 {
                    guard let w = try? await consumer.watermarks(KafkaTopicPartition(topic: topic, partition: p), timeoutMs: 2000) else { break }
                    total += w.high - w.low
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return total
    }

    // MARK: - Database

    /// Drops and creates the bench database, or another of the bench's (its name is checked: it is
    /// an identifier in SQL).
    func recreateDatabase(_ other: String? = nil) async throws {
        let name = other ?? databaseName
        guard name.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw ValidationError("database name '\(name)' must be lower-case letters, digits and _ (at most 63)")
        }
        try await withDatabase(Self.replacingDatabase(in: databaseURL, with: "postgres")) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: cliLogger)
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: cliLogger)
        }
    }

    /// The URL of another database of the bench's, on the same server.
    func url(ofDatabase name: String) -> String { Self.replacingDatabase(in: databaseURL, with: name) }

    /// Runs `body` with a connected client of the bench database.
    func withBenchDatabase<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await withDatabase(benchDatabaseURL, body)
    }

    func withDatabase<T: Sendable>(_ url: String, _ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = try DatabaseConfiguration(url: url).makeClient(logger: cliLogger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            group.addTask { try await body(client) }
            defer { group.cancelAll() }
            while let r = try await group.next() { if let r { return r } }
            throw ValidationError("database client stopped")
        }
    }

    /// `postgres://u:p@host:port/db?x` with another database.
    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        return String(url[..<scheme.upperBound]) + authority + "/" + name + query
    }
}
