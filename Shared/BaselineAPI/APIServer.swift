import BaselinePostgres
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// profile-api's router: the JSON API under `/api/v1`, its OpenAPI document, and the page at `/`.
public enum APIServer {
    public static func router(client: PostgresClient, configuration: APIConfiguration, logger: Logger) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        // Request counts and durations per route for /metrics; request lines at debug (never headers: they hold tokens).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug, includeHeaders: .none))
        router.add(middleware: SecurityHeadersMiddleware())
        if !configuration.corsOrigins.isEmpty {
            router.add(middleware: AllowedOriginsMiddleware(origins: Set(configuration.corsOrigins)))
        }
        router.add(middleware: ErrorMappingMiddleware())
        router.add(middleware: BearerAuthMiddleware(tokens: configuration.tokens))
        let listing = ProfileListing(client: client, logger: logger)
        let api = router.group("api/v1")
        IdentityRoutes().register(on: api)
        ProfileRoutes(listing: listing).register(on: api)
        DecisionRoutes(anomalies: AnomalyDecisions(client: client, logger: logger),
                       suggestions: SuggestionDecisions(client: client, logger: logger),
                       signals: SignalAggregateStore(client: client, logger: logger)).register(on: api)
        OverrideRoutes(overrides: OverrideStore(client: client, logger: logger), export: ProfileExport(client: client, logger: logger),
                       configuration: configuration).register(on: api)
        api.get("openapi.json") { _, _ in asset("openapi.json") }
        router.get("/") { _, _ in asset("index.html") }
        router.get("/:file") { _, context in
            guard let name = context.parameters.get("file"), WebAssets.files[name] != nil, name != "openapi.yaml" else {
                throw APIError.notFound("no such page")
            }
            return asset(name)
        }
        return router
    }

    static func asset(_ name: String) -> Response {
        guard let file = WebAssets.files[name] else { return Response(status: .notFound) }
        return Response(status: .ok, headers: [.contentType: file.contentType, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: file.body)))
    }
}

/// Headers that keep the page from being framed or sniffed and from loading anything foreign.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
