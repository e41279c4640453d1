import Hummingbird

/// CORS for the configured origins only (off unless BASELINE_API_CORS_ORIGINS names some): a
/// browser page from another origin may call the API with a token; any other origin gets no
/// CORS headers, so browsers keep its pages out.
struct AllowedOriginsMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let origins: Set<String>

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) else { return try await next(request, context) }
        var response: Response
        if request.method == .options {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, OPTIONS"
            response.headers[.accessControlAllowHeaders] = "authorization, content-type"
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }
}
