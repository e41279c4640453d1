import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging

/// Settings every service reads from the environment (documented in docs/configuration.md).
public struct BaselineConfiguration: Sendable {
    public var serviceName: String
    public var kafka: KafkaConfiguration
    public var database: DatabaseConfiguration
    /// Host and port of the ops endpoint (/metrics, /healthz, /readyz); port 0 disables it.
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    /// Partitions for topics created at start-up (existing topics are left as they are).
    public var topicPartitions: Int32
    public var createTopics: Bool
    /// Raw environment, for per-service settings.
    public var environment: [String: String]

    public static let defaultBrokers = "127.0.0.1:9092"
    public static let defaultDatabaseURL = "postgres://baseline:baseline@127.0.0.1:55432/baseline"

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func fromEnvironment(serviceName: String, defaultHTTPPort: Int,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BaselineConfiguration {
        let env = environment
        var properties: [String: String] = [:]
        if let file = env["BASELINE_KAFKA_PROPERTIES_FILE"], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw Invalid(description: "BASELINE_KAFKA_PROPERTIES_FILE: cannot read \(file)")
            }
            properties.merge(try KafkaConfiguration.parseProperties(text)) { $1 }
        }
        if let inline = env["BASELINE_KAFKA_PROPERTIES"], !inline.isEmpty {
            properties.merge(try KafkaConfiguration.parseProperties(inline)) { $1 }
        }
        let level = env["BASELINE_LOG_LEVEL"].map { $0.lowercased() } ?? "info"
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw Invalid(description: "BASELINE_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical (got '\(level)')")
        }
        return BaselineConfiguration(
            serviceName: serviceName,
            kafka: KafkaConfiguration(brokers: env["BASELINE_KAFKA_BROKERS"] ?? defaultBrokers, properties: properties),
            database: try DatabaseConfiguration(url: env["BASELINE_DATABASE_URL"] ?? defaultDatabaseURL),
            httpHost: env["BASELINE_HTTP_HOST"] ?? "127.0.0.1",
            httpPort: try int(env, "BASELINE_HTTP_PORT", defaultHTTPPort, range: 0...65535),
            logLevel: logLevel,
            topicPartitions: Int32(try int(env, "BASELINE_TOPIC_PARTITIONS", Int(Topics.defaultPartitions), range: 1...10_000)),
            createTopics: try bool(env, "BASELINE_CREATE_TOPICS", true),
            environment: env
        )
    }

    /// An integer setting with a default and a valid range.
    public func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try Self.int(environment, name, value, range: range)
    }

    public func double(_ name: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let raw = environment[name], !raw.isEmpty else { return value }
        guard let v = Double(raw), range.contains(v) else {
            throw Invalid(description: "\(name) must be a number in \(range.lowerBound)...\(range.upperBound) (got '\(raw)')")
        }
        return v
    }

    public func bool(_ name: String, default value: Bool) throws -> Bool { try Self.bool(environment, name, value) }

    public func string(_ name: String, default value: String) -> String {
        environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? value
    }

    static func int(_ env: [String: String], _ name: String, _ value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = env[name], !raw.isEmpty else { return value }
        guard let v = Int(raw), range.contains(v) else {
            throw Invalid(description: "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound) (got '\(raw)')")
        }
        return v
    }

    static func bool(_ env: [String: String], _ name: String, _ value: Bool) throws -> Bool {
        guard let raw = env[name]?.lowercased(), !raw.isEmpty else { return value }
        switch raw {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw Invalid(description: "\(name) must be true or false (got '\(raw)')")
        }
    }
}
