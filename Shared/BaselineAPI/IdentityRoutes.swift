import Hummingbird

/// `GET /api/v1/identity`: who the presented token is and what it may do, so the page can check a
/// token once at sign-in and show write actions only to write tokens. Never returns the token.
struct IdentityRoutes {
    struct Body: Encodable, Sendable {
        let name: String
        let scope: String
    }

    func register(on api: RouterGroup<APIContext>) {
        api.get("identity") { request, context in
            try RequestInput(request, context).rejectUnknownParameters()
            guard let identity = context.identity else { throw BearerAuthMiddleware.unauthorized("a bearer token is required") }
            return JSONResponse(Body(name: identity.name, scope: identity.scope.rawValue))
        }
    }
}
