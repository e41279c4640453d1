import BaselineCore
import BaselinePostgres
import Foundation
import Hummingbird

/// Reading and checking what a request carries: every value is checked here, with a 400 that
/// names the parameter, before a store sees it.
public struct RequestInput: Sendable {
    let request: Request
    let context: APIContext

    public init(_ request: Request, _ context: APIContext) {
        self.request = request
        self.context = context
    }

    static let known: Set<String> = [
        "image", "tag", "service", "label", "state", "q", "cursor", "limit", "parent", "key", "status", "rule", "active", "before",
        "points", "format", "as_image", "as_tag",
    ]

    /// A path parameter, percent-decoded (image names hold `/`, sent as `%2F`), at most `maxBytes`.
    public func path(_ name: String, maxBytes: Int = 255) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding else {
            throw APIError.badRequest("\(name) is missing or not percent-encoded correctly")
        }
        guard !value.isEmpty, value.utf8.count <= maxBytes, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError.badRequest("\(name) must be 1-\(maxBytes) bytes without control characters")
        }
        return value
    }

    /// An anomaly id holds its image, tag, node key and dump id (`image|tag|type:key|dump`), so it
    /// may be as long as a node key allows and more.
    public static let anomalyIDMaxBytes = 3 * 255 + StorageLimits().maxNodeKeyBytes + 32

    /// The query's parameters in order, decoded as forms, curl's `--data-urlencode` and Python's
    /// `urlencode` encode them: `+` is a space, `%2B` a plus (every node key holds spaces).
    public func parameters() throws -> [(name: String, value: String)] {
        guard let query = request.uri.query, !query.isEmpty else { return [] }
        return try query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecoded(parts[0]), let value = Self.formDecoded(parts.count > 1 ? parts[1] : "") else {
                throw APIError.badRequest("the query is not percent-encoded correctly")
            }
            return (name, value)
        }
    }

    static func formDecoded(_ s: Substring) -> String? {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// An optional query parameter (empty = absent), at most `maxBytes` long.
    public func query(_ name: String, maxBytes: Int = 255) throws -> String? {
        let values = try parameters().filter { $0.name == name }.map(\.value)
        guard values.count <= 1 else { throw APIError.badRequest("\(name) may be given once") }
        guard let v = values.first, !v.isEmpty else { return nil }
        guard v.utf8.count <= maxBytes else { throw APIError.badRequest("\(name) is longer than \(maxBytes) bytes") }
        guard !v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError.badRequest("\(name) holds control characters")
        }
        return String(v)
    }

    public func queryAll(_ name: String, max: Int = 16) throws -> [String] {
        let values = try parameters().filter { $0.name == name }.map(\.value)
        guard values.count <= max else { throw APIError.badRequest("at most \(max) \(name) parameters") }
        return values
    }

    public func limit(default value: Int = 50, max: Int = 500) throws -> Int {
        guard let raw = try query("limit") else { return value }
        guard let n = Int(raw), (1...max).contains(n) else { throw APIError.badRequest("limit must be an integer in 1...\(max)") }
        return n
    }

    public func cursor() throws -> String? { try query("cursor", maxBytes: 4096) }

    public func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let v = try query(name) else { return nil }
        guard allowed.contains(v) else { throw APIError.badRequest("\(name) must be one of \(allowed.joined(separator: ", "))") }
        return v
    }

    public func bool(_ name: String) throws -> Bool? {
        guard let v = try query(name) else { return nil }
        switch v {
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("\(name) must be true or false")
        }
    }

    /// The query parameters each route takes, by its path as the router reports it (the OpenAPI
    /// template). A route missing here accepts the names any route takes (`known`).
    static let byRoute: [String: Set<String>] = {
        let version = "/api/v1/profiles/{image}/versions/{tag}"
        let page: Set<String> = ["cursor", "limit"]
        return [
            "/api/v1/identity": [],
            "/api/v1/profiles": page.union(["image", "tag", "service", "label", "state", "q"]),
            version: [],
            version + "/tree": page.union(["parent"]),
            version + "/node": ["key", "limit"],
            version + "/instances": page,
            version + "/dumps": page,
            version + "/history": page.union(["before"]),
            version + "/commonality": ["points"],
            version + "/signals": page.union(["rule"]),
            version + "/export": ["format"],
            "/api/v1/profiles/import": ["as_image", "as_tag"],
            "/api/v1/profiles/{image}/overrides": [],
            "/api/v1/anomalies": page.union(["image", "tag", "status"]),
            "/api/v1/suggestions": page.union(["image", "status"]),
            "/api/v1/suppressions": page.union(["image", "active"]),
            "/api/v1/anomalies/{id}": [], "/api/v1/anomalies/{id}/accept": [], "/api/v1/anomalies/{id}/dismiss": [],
            "/api/v1/suggestions/{id}": [], "/api/v1/suggestions/{id}/accept": [], "/api/v1/suggestions/{id}/dismiss": [],
            "/api/v1/suppressions/{id}": [], "/api/v1/suppressions/{id}/disable": [], "/api/v1/suppressions/{id}/enable": [],
        ]
    }()

    /// Unknown query parameters are an error, not silently ignored (a typo in a filter would
    /// otherwise widen the result): each route names its own, so a filter of another route
    /// (`/anomalies?state=…`) is unknown too.
    public func rejectUnknownParameters() throws {
        let allowed = context.endpointPath.flatMap { Self.byRoute[$0] } ?? Self.known
        for (key, _) in try parameters() where !allowed.contains(key) {
            throw APIError.badRequest(allowed.isEmpty ? "\(key): this endpoint takes no query parameter"
                : "unknown query parameter \(key) (this endpoint takes \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// The body as `T`, at most `limit` bytes (413 beyond).
    public func body<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, "too_large", "the request body is larger than \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "too_large", "the request body is larger than \(limit) bytes")
        }
        do {
            return try APICoding.decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw APIError.badRequest("the request body is not valid: \(Self.describe(error))")
        }
    }

    public var user: String { context.identity?.name ?? "anonymous" }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c)): wrong type or missing value"
        case .keyNotFound(let key, let c): return "\((c.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is required"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON" : "\(path(c)): invalid value"
        @unknown default: return "invalid"
        }
    }
}
