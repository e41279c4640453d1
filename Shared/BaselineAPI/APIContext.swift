import Foundation
import Hummingbird

/// The request context of the API: who is calling (set by `BearerAuthMiddleware`) and the
/// JSON coding every endpoint uses (snake_case keys, RFC 3339 dates).
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var requestDecoder: JSONDecoder { APICoding.decoder }
    public var responseEncoder: JSONEncoder { APICoding.encoder }
}

public enum APICoding {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}

/// A response body encoded by the API's encoder.
public struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    public var body: Body
    public var status: HTTPResponse.Status

    public init(_ body: Body, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try APICoding.encoder.encode(body)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
