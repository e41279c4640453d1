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

    /// The older entry point, by name (the registry's HTTP port must match).
    @available(*, deprecated, message: "use main(service:build:)")
    public static func main(serviceName: String, defaultHTTPPort: Int,
                            build: (BaselineConfiguration, Readiness, Logger) async throws -> [any Service]) async {
        guard let service = BaselineServiceName(rawValue: serviceName), service.defaultHTTPPort == defaultHTTPPort else {
            FileHandle.standardError.write(Data("\(serviceName): configuration error: not in ConfigurationRegistry with port \(defaultHTTPPort)\n".utf8))
            exit(2)
        }
        await main(service: service, build: build)
    }

    /// Reads the configuration, checks librdkafka, and runs the services `build` returns.
    public static func main(service: BaselineServiceName,
                            build: (BaselineConfiguration, Readiness, Logger) async throws -> [any Service]) async {
        let serviceName = service.rawValue
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
            try LibRdKafka.requireMinimumVersion()
            logger.info("starting", metadata: [
                "librdkafka": "\(LibRdKafka.versionString)", "brokers": "\(config.kafka.brokers)",
                "database": "\(config.database)",
            ])
            let readiness = Readiness()
            var services = try await build(config, readiness, logger)
            if config.httpPort > 0 {
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
