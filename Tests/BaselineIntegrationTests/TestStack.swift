import BaselineKafka
import BaselinePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// The real broker and database the integration tests talk to: the local stack
/// (`scripts/stack up`) unless BASELINE_KAFKA_BROKERS / BASELINE_DATABASE_URL say otherwise.
/// BASELINE_KAFKA_PROPERTIES applies as in the services (`scripts/stack env` sets Tansu's group
/// timing there). A test that needs the stack fails with a clear message when it is down; it
/// never skips.
enum TestStack {
    static let env = ProcessInfo.processInfo.environment
    static let brokers = env["BASELINE_KAFKA_BROKERS"] ?? "127.0.0.1:9092"
    static let databaseURL = env["BASELINE_DATABASE_URL"] ?? "postgres://baseline:baseline@127.0.0.1:55432/baseline_test"
    static let kafkaProperties: [String: String] = {
        do {
            return try KafkaConfiguration.parseProperties(env["BASELINE_KAFKA_PROPERTIES"] ?? "")
        } catch {
            fatalError("BASELINE_KAFKA_PROPERTIES: \(error)")
        }
    }()
    static let kafka = KafkaConfiguration(brokers: brokers, properties: kafkaProperties)
    static let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .warning
        return l
    }()

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UInt32.random(in: 0 ... .max))" }

    /// Fails the test (with how to fix it) when the broker is not reachable.
    static func requireKafka() throws {
        guard portOpen(brokers) else {
            throw StackDown(what: "Kafka broker at \(brokers)")
        }
    }

    static func requireDatabase() throws {
        let config = try DatabaseConfiguration(url: databaseURL)
        guard portOpen("\(config.host):\(config.port)") else { throw StackDown(what: "PostgreSQL at \(config.host):\(config.port)") }
    }

    struct StackDown: Error, CustomStringConvertible {
        let what: String
        var description: String { "\(what) is not reachable: start the stack with `scripts/stack up` (scripts/test does it for you)" }
    }

    static func portOpen(_ hostPort: String) -> Bool {
        let first = hostPort.split(separator: ",")[0]
        let parts = first.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, parts[0] == "localhost" ? "127.0.0.1" : String(parts[0]), &addr.sin_addr)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Runs `body` with a running PostgresClient for `url` (default: the test database).
    static func withDatabase<T: Sendable>(url: String? = nil, _ body: @Sendable @escaping (PostgresClient) async throws -> T) async throws -> T {
        try requireDatabase()
        let client = try DatabaseConfiguration(url: url ?? databaseURL).makeClient(logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            group.addTask { try await body(client) }
            defer { group.cancelAll() }
            while let r = try await group.next() {
                if let r { return r }
            }
            throw StackDown(what: "database client")
        }
    }

    /// Reads from `topic` with a fresh group from the beginning until `predicate` has collected
    /// `count` messages or `timeout` passes.
    static func collect(_ topic: String, count: Int, timeout: Duration = .seconds(20),
                        where predicate: @escaping (KafkaMessage) -> Bool = { _ in true }) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(configuration: kafka, groupID: unique("collect"), topics: [topic], logger: logger)
        var found: [KafkaMessage] = []
        let deadline = ContinuousClock.now + timeout
        while found.count < count && ContinuousClock.now < deadline {
            let batch = try await consumer.poll(maxMessages: 500, maxWaitMs: 200)
            found += batch.filter(predicate)
        }
        await consumer.close()
        return found
    }
}
