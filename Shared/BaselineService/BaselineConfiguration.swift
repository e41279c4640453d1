import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging

/// A service's settings, read from the environment through `ConfigurationRegistry` (documented in
/// docs/configuration.md). Settings a service does not list keep their defaults and are not read.
public struct BaselineConfiguration: Sendable {
    public var service: BaselineServiceName
    public var serviceName: String { service.rawValue }
    public var kafka: KafkaConfiguration
    /// The service's database; the registry's default (unused) for a service without one.
    public var database: DatabaseConfiguration
    /// Host and port of the HTTP endpoint (/metrics, /healthz, /readyz); port 0 disables it.
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    /// Partitions for topics created at start-up (existing topics are left as they are).
    public var topicPartitions: Int32
    public var createTopics: Bool
    /// Raw environment, for the typed accessors.
    public var environment: [String: String]

    public static let defaultBrokers = ConfigurationVariable.kafkaBrokers.defaultValue!
    public static let defaultDatabaseURL = ConfigurationVariable.databaseURL.defaultValue!

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func fromEnvironment(service: BaselineServiceName,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BaselineConfiguration {
        var config = BaselineConfiguration(
            service: service, kafka: KafkaConfiguration(brokers: defaultBrokers, properties: [:]),
            database: try DatabaseConfiguration(url: defaultDatabaseURL), httpHost: "127.0.0.1", httpPort: service.defaultHTTPPort,
            logLevel: .info, topicPartitions: 4, createTopics: false, environment: environment)
        if config.reads(.kafkaBrokers) {
            var properties: [String: String] = [:]
            let file = try config.string(.kafkaPropertiesFile)
            if !file.isEmpty {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw Invalid(description: "\(ConfigurationVariable.kafkaPropertiesFile.name): cannot read \(file)")
                }
                properties.merge(try KafkaConfiguration.parseProperties(text)) { $1 }
            }
            properties.merge(try KafkaConfiguration.parseProperties(try config.string(.kafkaProperties))) { $1 }
            config.kafka = KafkaConfiguration(brokers: try config.string(.kafkaBrokers), properties: properties)
            config.topicPartitions = Int32(try config.int(.topicPartitions))
            config.createTopics = try config.bool(.createTopics)
        }
        if config.reads(.databaseURL) {
            config.database = try DatabaseConfiguration(url: try config.string(.databaseURL))
        }
        config.httpHost = try config.string(.httpHost)
        config.httpPort = try config.int(ConfigurationVariable.httpPort(service.defaultHTTPPort))
        let level = try config.string(.logLevel).lowercased()
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw Invalid(description: "BASELINE_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical (got '\(level)')")
        }
        config.logLevel = logLevel
        return config
    }

    /// The older entry point, by name: the registry's HTTP port must be the one asked for.
    @available(*, deprecated, message: "use fromEnvironment(service:)")
    public static func fromEnvironment(serviceName: String, defaultHTTPPort: Int,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BaselineConfiguration {
        guard let service = BaselineServiceName(rawValue: serviceName) else {
            throw Invalid(description: "\(serviceName) is not a service of ConfigurationRegistry")
        }
        guard service.defaultHTTPPort == defaultHTTPPort else {
            throw Invalid(description: "\(serviceName): ConfigurationRegistry's default port is \(service.defaultHTTPPort), not \(defaultHTTPPort)")
        }
        return try fromEnvironment(service: service, environment: environment)
    }

    /// Whether the service lists this variable in the registry.
    public func reads(_ variable: ConfigurationVariable) -> Bool {
        ConfigurationRegistry.variables(for: service).contains(variable)
    }

    /// The raw text (the default when unset or empty); throws for a variable the service does not list.
    func raw(_ variable: ConfigurationVariable) throws -> String? {
        guard reads(variable) else {
            throw Invalid(description: "\(variable.name) (as described) is not a setting of \(service.rawValue): add it to ConfigurationRegistry")
        }
        if let value = environment[variable.name], !value.isEmpty { return value }
        return variable.defaultValue
    }

    public func int(_ variable: ConfigurationVariable) throws -> Int {
        guard case .integer(let range) = variable.kind else { throw Invalid(description: "\(variable.name) is not an integer setting") }
        let raw = try raw(variable) ?? ""
        guard let value = Int(raw), range.contains(value) else {
            throw Invalid(description: "\(variable.name) must be an integer in \(range.lowerBound)...\(range.upperBound) (got '\(raw)')")
        }
        return value
    }

    public func double(_ variable: ConfigurationVariable) throws -> Double {
        guard case .number(let range) = variable.kind else { throw Invalid(description: "\(variable.name) is not a number setting") }
        let raw = try raw(variable) ?? ""
        guard let value = Double(raw), range.contains(value) else {
            throw Invalid(description: "\(variable.name) must be a number in \(range.lowerBound)...\(range.upperBound) (got '\(raw)')")
        }
        return value
    }

    public func bool(_ variable: ConfigurationVariable) throws -> Bool {
        guard variable.kind == .boolean else { throw Invalid(description: "\(variable.name) is not a true/false setting") }
        let raw = try raw(variable)?.lowercased() ?? ""
        switch raw {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw Invalid(description: "\(variable.name) must be true or false (got '\(raw)')")
        }
    }

    /// Text settings; empty when unset and without a default.
    public func string(_ variable: ConfigurationVariable) throws -> String {
        try raw(variable) ?? ""
    }
}

/// The older accessors by name, for code not moved to `ConfigurationVariable`s yet: the variable
/// must be the service's in the registry, with the default and range the caller states.
extension BaselineConfiguration {
    func registered(_ name: String, default value: String?, _ kind: ConfigurationVariable.Kind) throws -> ConfigurationVariable {
        guard let variable = ConfigurationRegistry.variable(name, for: service) else {
            throw Invalid(description: "\(name) is not a setting of \(service.rawValue): add it to ConfigurationRegistry")
        }
        guard variable.defaultValue == value, variable.kind == kind else {
            throw Invalid(description: "\(name): the code reads default \(value ?? "none"), \(kind); ConfigurationRegistry says "
                          + "\(variable.defaultValue ?? "none"), \(variable.kind)")
        }
        return variable
    }

    @available(*, deprecated, message: "read a ConfigurationVariable: config.int(.name)")
    public func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try int(registered(name, default: String(value), .integer(range)))
    }

    @available(*, deprecated, message: "read a ConfigurationVariable: config.double(.name)")
    public func double(_ name: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        try double(registered(name, default: String(value), .number(range)))
    }

    @available(*, deprecated, message: "read a ConfigurationVariable: config.bool(.name)")
    public func bool(_ name: String, default value: Bool) throws -> Bool {
        try bool(registered(name, default: String(value), .boolean))
    }

    /// Unregistered names read as their default (this accessor cannot throw); a test checks that
    /// every name a service spells is registered.
    @available(*, deprecated, message: "read a ConfigurationVariable: config.string(.name)")
    public func string(_ name: String, default value: String) -> String {
        guard let variable = ConfigurationRegistry.variable(name, for: service) else { return value }
        return (try? string(variable)) ?? value
    }
}

/// What logs and error messages show of a configuration: never the raw environment, Kafka property
/// values (SASL passwords) or the database password.
extension BaselineConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "\(service.rawValue) (brokers \(kafka.brokers), Kafka properties \(kafka.properties.keys.sorted()), database \(database), "
            + "http \(httpHost):\(httpPort), log level \(logLevel))"
    }

    public var debugDescription: String { description }
}
