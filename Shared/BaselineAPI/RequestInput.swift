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

    /// A path parameter, percent-decoded (image names hold `/`, sent as `%2F`).
    public func path(_ name: String) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding else {
            throw APIError.badRequest("\(name) is missing or not percent-encoded correctly")
        }
        guard Validation.isName(value) else { throw APIError.badRequest("\(name) must be 1-255 bytes without control characters") }
        return value
    }

    /// An optional query parameter (empty = absent), at most `maxBytes` long.
    public func query(_ name: String, maxBytes: Int = 255) throws -> String? {
        let values = request.uri.queryParameters[values: Substring(name)]
        guard values.count <= 1 else { throw APIError.badRequest("\(name) may be given once") }
        guard let v = values.first, !v.isEmpty else { return nil }
        guard v.utf8.count <= maxBytes else { throw APIError.badRequest("\(name) is longer than \(maxBytes) bytes") }
        guard !v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError.badRequest("\(name) holds control characters")
        }
        return String(v)
    }

    public func queryAll(_ name: String, max: Int = 16) throws -> [String] {
        let values = request.uri.queryParameters[values: Substring(name)].map(String.init)
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

    /// Unknown query parameters are an error, not silently ignored (a typo in a filter would
    /// otherwise widen the result).
    public func rejectUnknownParameters() throws {
        for (key, _) in request.uri.queryParameters where !Self.known.contains(String(key)) {
            throw APIError.badRequest("unknown query parameter \(key)")
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
