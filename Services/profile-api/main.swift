// profile-api: the HTTP API (`/api/v1`, OpenAPI at /api/v1/openapi.json) and the Security
// Profiles page (`/`) over PostgreSQL, with /metrics, /healthz and /readyz on the same port.
// Wiring only.
import BaselineAPI
import BaselinePostgres
import BaselineService
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

await ServiceRunner.main(serviceName: "profile-api", defaultHTTPPort: 9404, usesKafka: false, servesOps: true) { config, readiness, registry, logger in
    let tokens = try APITokens.load(inline: config.environment["BASELINE_API_TOKENS"], file: config.environment["BASELINE_API_TOKENS_FILE"])
    guard !tokens.isEmpty else {
        let hint = config.environment["BASELINE_API_TOKEN"] != nil
            ? " (BASELINE_API_TOKEN, singular, is the CLI's: the service reads BASELINE_API_TOKENS)" : ""
        throw BaselineConfiguration.Invalid(description: "no API tokens: set BASELINE_API_TOKENS or BASELINE_API_TOKENS_FILE\(hint)")
    }
    logger.info("API tokens loaded", metadata: ["count": "\(tokens.count)"])
    var api = APIConfiguration(tokens: tokens)
    api.maxBodyBytes = try config.int("BASELINE_API_MAX_BODY_BYTES", default: 1 << 20, range: 1024...(64 << 20))
    api.maxImportBytes = try config.int("BASELINE_API_MAX_IMPORT_BYTES", default: 32 << 20, range: 1024...(4 << 30))
    api.corsOrigins = config.string("BASELINE_API_CORS_ORIGINS", default: "").split(separator: ",")
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let statementTimeout = try config.int("BASELINE_API_STATEMENT_TIMEOUT_SECONDS", default: 10, range: 1...3600)

    let client = config.database.makeClient(logger: logger, statementTimeout: .seconds(statementTimeout))
    readiness.addCheck("postgresql", ReadinessChecks.database(client))
    let router = APIServer.router(client: client, configuration: api, logger: logger)
    OpsServer.addRoutes(to: router, registry: registry, readiness: readiness)
    // The port answers /healthz at once; /readyz says ready once the schema is current (a long
    // migration, or another instance holding the migration lock, is not a liveness failure).
    let app = Application(router: router, configuration: .init(address: .hostname(config.httpHost, port: config.httpPort)), logger: logger)
    let schema = SchemaReady(client: client, readiness: readiness, logger: logger)
    return [client, app, schema]
}

/// Applies the migrations, then reports ready and waits for shutdown.
struct SchemaReady: Service {
    let client: PostgresClient
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        readiness.markNotReady("applying database migrations")
        try await Topology.migrate(client, logger: logger)
        readiness.markReady()
        try? await gracefulShutdown()
    }
}
