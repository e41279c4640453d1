import BaselinePostgres
import Foundation
import Hummingbird
import PostgresNIO

/// Every error the API returns: `{"error": {"code": "...", "message": "..."}}` with its status.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try APICoding.encoder.encode(ErrorBody(error: .init(code: code, message: message)))
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The JSON body of every error response.
public struct ErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public let code: String
        public let message: String
    }
    public let error: Detail
}

/// Turns the errors of the stores and of Hummingbird into `APIError`s, so no error leaves as
/// plain text and no internal detail (SQL, connection strings) reaches a client.
public struct ErrorMappingMiddleware: RouterMiddleware {
    public typealias Context = APIContext

    public init() {}

    public func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw Self.map(error, context: context)
        }
    }

    static func map(_ error: any Error, context: APIContext) -> any Error {
        switch error {
        case let error as APIError: return error
        case let error as PostgresTransactionError where error.closureError != nil:
            // A check inside a transaction (an import over an existing version) failed, not the database.
            return map(error.closureError!, context: context)
        case let error as CatalogError:
            switch error {
            case .notFound(let m): return APIError.notFound(m)
            case .conflict(let m): return APIError(.conflict, "conflict", m)
            case .invalid(let m): return APIError.badRequest(m)
            }
        case let error as HTTPError:
            let code = error.status == .notFound ? "not_found" : error.status == .contentTooLarge ? "too_large"
                : error.status == .methodNotAllowed ? "method_not_allowed" : "bad_request"
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        case is DecodingError:
            return APIError.badRequest("the request body is not valid JSON of the expected shape")
        default:
            let id = context.logger[metadataKey: "hb.request.id"].map { "\($0)" } ?? "-"
            let underlying = DatabaseFailure.underlying(error)
            if let e = underlying as? PSQLError, e.serverInfo?[.sqlState] == "57014" {
                context.logger.warning("query timed out (statement_timeout): \(DatabaseFailure.describe(error))")
                return APIError(.serviceUnavailable, "query_timeout", "the query took too long; narrow the request (request \(id))")
            }
            if DatabaseFailure.classify(error) == .transient {
                context.logger.warning("database unavailable: \(DatabaseFailure.describe(error))")
                return APIError(.serviceUnavailable, "unavailable", "the database is unavailable; try again (request \(id))")
            }
            // A bug, not an outage: say so, so clients do not retry it for ever.
            context.logger.error("request failed: \(String(reflecting: error))")
            return APIError(.internalServerError, "internal", "the request failed (request \(id)); the service log has the details")
        }
    }
}
