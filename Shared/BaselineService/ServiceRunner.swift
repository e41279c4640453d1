import BaselineKafka
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Boots a service: logging, metrics, the ops endpoint, then runs its services in a
/// `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT (in-flight batches finish and
/// their offsets are committed before exit).
public enum ServiceRunner {
    /// Bootstraps logging and metrics once per process; returns the Prometheus registry.
    public static func bootstrap(level: Logger.Level) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Reads the configuration, checks librdkafka, and runs the services `build` returns, with the
    /// ops endpoint (/metrics, /healthz, /readyz) on BASELINE_HTTP_PORT.
    public static func main(service: BaselineServiceName,
                            build: (BaselineConfiguration, Readiness, Logger) async throws -> [any Service]) async {
        await main(service: service, servesOps: false) { config, readiness, _, logger in
            try await build(config, readiness, logger)
        }
    }

    /// The older entry point, by name: the registry's HTTP port must be the one asked for.
    @available(*, deprecated, message: "use main(service:build:)")
    public static func main(serviceName: String, defaultHTTPPort: Int,
                            build: (BaselineConfiguration, Readiness, Logger) async throws -> [any Service]) async {
        await main(serviceName: serviceName, defaultHTTPPort: defaultHTTPPort, usesKafka: true, servesOps: false) { config, readiness, _, logger in
            try await build(config, readiness, logger)
        }
    }

    /// By name (as profile-api calls it): the registry decides; the port and whether the service
    /// uses Kafka must agree with it.
    public static func main(serviceName: String, defaultHTTPPort: Int, usesKafka: Bool, servesOps: Bool,
                            build: (BaselineConfiguration, Readiness, PrometheusCollectorRegistry, Logger) async throws -> [any Service]) async {
        guard let service = BaselineServiceName(rawValue: serviceName), service.defaultHTTPPort == defaultHTTPPort,
              service.usesKafka == usesKafka else {
            FileHandle.standardError.write(Data("""
                \(serviceName): configuration error: ConfigurationRegistry has no such service with port \(defaultHTTPPort) \
                and\(usesKafka ? "" : " without") Kafka\n
                """.utf8))
            exit(2)
        }
        await main(service: service, servesOps: servesOps, build: build)
    }

    /// A service that serves HTTP itself (`servesOps`) adds the ops routes to its own router with
    /// the registry it is given; one without Kafka (per the registry) skips the librdkafka check.
    public static func main(service: BaselineServiceName, servesOps: Bool,
                            build: (BaselineConfiguration, Readiness, PrometheusCollectorRegistry, Logger) async throws -> [any Service]) async {
        let serviceName = service.rawValue
        let usesKafka = service.usesKafka
        let config: BaselineConfiguration
        do {
            config = try BaselineConfiguration.fromEnvironment(service: service)
        } catch {
            FileHandle.standardError.write(Data("\(serviceName): configuration error: \(error)\n".utf8))
            exit(2)
        }
        let registry = bootstrap(level: config.logLevel)
        var logger = Logger(label: "baseline.\(serviceName)")
        logger.logLevel = config.logLevel
        do {
            if usesKafka {
                try LibRdKafka.requireMinimumVersion()
                logger.info("starting", metadata: [
                    "librdkafka": "\(LibRdKafka.versionString)", "brokers": "\(config.kafka.brokers)",
                    "database": "\(config.database)",
                ])
            } else {
                logger.info("starting", metadata: ["database": "\(config.database)"])
            }
            let readiness = Readiness()
            var services = try await build(config, readiness, registry, logger)
            if config.httpPort > 0 && !servesOps {
                services.append(OpsServer.make(host: config.httpHost, port: config.httpPort, registry: registry,
                                               readiness: readiness, logger: logger))
            }
            let group = ServiceGroup(configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            try await group.run()
            logger.info("stopped")
        } catch {
            logger.critical("fatal: \(error)")
            exit(1)
        }
    }
}
