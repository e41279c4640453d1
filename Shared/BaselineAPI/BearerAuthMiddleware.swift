import Hummingbird

/// Every `/api/v1` route but the OpenAPI document needs `Authorization: Bearer TOKEN`: no or an
/// unknown token → 401, a read token on a write → 403. The page, its assets and the ops
/// endpoints are public (the page holds no data; it calls the API with the user's token).
public struct BearerAuthMiddleware: RouterMiddleware {
    public typealias Context = APIContext
    let tokens: APITokens

    public init(tokens: APITokens) {
        self.tokens = tokens
    }

    public static let publicAPIPaths: Set<String> = ["/api/v1/openapi.json"]

    public func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        // The router drops empty path components (`/api//v1/profiles` resolves like
        // `/api/v1/profiles`): decide on the same components, never on the raw prefix.
        let components = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        let path = "/" + components.joined(separator: "/")
        guard components.count >= 2, components[0] == "api", components[1] == "v1", !Self.publicAPIPaths.contains(path) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer " else {
            throw Self.unauthorized("a bearer token is required (Authorization: Bearer TOKEN)")
        }
        guard let identity = tokens.identify(header.dropFirst(7).drop(while: { $0 == " " })) else {
            throw Self.unauthorized("the bearer token is not valid")
        }
        let needed: APIScope = [.get, .head, .options].contains(request.method) ? .read : .write
        guard identity.scope >= needed else {
            throw APIError(.forbidden, "forbidden", "this token has the \(identity.scope.rawValue) scope; \(request.method) needs \(needed.rawValue)")
        }
        var context = context
        context.identity = identity
        context.logger[metadataKey: "api.identity"] = .string(identity.name)
        return try await next(request, context)
    }

    static func unauthorized(_ message: String) -> APIError {
        var e = APIError(.unauthorized, "unauthorized", message)
        e.headers[.wwwAuthenticate] = "Bearer realm=\"baseline\""
        return e
    }
}
