// profile-api: the HTTP API (`/api/v1`, OpenAPI at /api/v1/openapi.json) and the Security
// Profiles page (`/`) over PostgreSQL, with /metrics, /healthz and /readyz on the same port.
// Wiring only.
import BaselineAPI
import BaselinePostgres
import BaselineService
import Hummingbird

await ServiceRunner.main(serviceName: "profile-api", defaultHTTPPort: 9404, usesKafka: false, servesOps: true) { config, readiness, registry, logger in
    let tokens = try APITokens.load(inline: config.environment["BASELINE_API_TOKENS"], file: config.environment["BASELINE_API_TOKENS_FILE"])
    if tokens.isEmpty {
        logger.warning("no API tokens configured (BASELINE_API_TOKENS or BASELINE_API_TOKENS_FILE): every /api/v1 call will be refused")
    } else {
        logger.info("API tokens loaded", metadata: ["count": "\(tokens.count)"])
    }
    var api = APIConfiguration(tokens: tokens)
    api.maxBodyBytes = try config.int("BASELINE_API_MAX_BODY_BYTES", default: 1 << 20, range: 1024...(64 << 20))
    api.maxImportBytes = try config.int("BASELINE_API_MAX_IMPORT_BYTES", default: 256 << 20, range: 1024...(4 << 30))
    api.corsOrigins = config.string("BASELINE_API_CORS_ORIGINS", default: "").split(separator: ",")
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

    let client = config.database.makeClient(logger: logger)
    readiness.addCheck("postgresql", ReadinessChecks.database(client))
    let router = APIServer.router(client: client, configuration: api, logger: logger)
    OpsServer.addRoutes(to: router, registry: registry, readiness: readiness)
    let app = Application(router: router, configuration: .init(address: .hostname(config.httpHost, port: config.httpPort)),
                          onServerRunning: { _ in readiness.markReady() }, logger: logger)
    return [client, PreparedService(app, prepare: { try await Topology.migrate(client, logger: logger) })]
}
