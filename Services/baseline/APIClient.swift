import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where profile-api is and the token to call it with (flags, else the environment).
struct APIOptions: ParsableArguments {
    @Option(help: "profile-api URL (default: $BASELINE_API_URL or http://127.0.0.1:9404).")
    var api: String = ProcessInfo.processInfo.environment["BASELINE_API_URL"] ?? "http://127.0.0.1:9404"

    @Option(help: "API token (default: $BASELINE_API_TOKEN). Prefer the environment: flags show in `ps`.")
    var token: String?

    var client: APIClient {
        get throws {
            guard let token = token ?? ProcessInfo.processInfo.environment["BASELINE_API_TOKEN"], !token.isEmpty else {
                throw ValidationError("an API token is needed: set BASELINE_API_TOKEN (or --token)")
            }
            guard let base = URL(string: api), base.scheme == "http" || base.scheme == "https" else {
                throw ValidationError("--api must be an http(s) URL")
            }
            return APIClient(base: base, token: token)
        }
    }
}

/// A small client of profile-api's JSON API: errors come back as the API's own message.
struct APIClient {
    let base: URL
    let token: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Percent-encodes one path segment (image names hold `/`).
    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    func call(_ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil) async throws -> Data {
        var components = URLComponents(url: base.appendingPathComponent("api/v1"), resolvingAgainstBaseURL: false)!
        components.percentEncodedPath += "/" + path
        let items = query.compactMap { k, v in v.map { URLQueryItem(name: k, value: $0) } }
        if !items.isEmpty { components.queryItems = items }
        // `+` is a space to some servers: encode it.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(description: "cannot reach profile-api at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])
                .flatMap { $0["error"] as? [String: Any] }.flatMap { $0["message"] as? String }
            throw Failure(description: "profile-api answered \(status): \(message ?? String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return data
    }

    func json(_ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil) async throws -> [String: Any] {
        let data = try await call(method, path, query: query, body: body)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "profile-api answered with something that is not a JSON object")
        }
        return object
    }

    /// Every item of a paged list, following cursors (at most `max`).
    func all(_ path: String, query: [(String, String?)], max: Int = 10_000) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            let page = try await json("GET", path, query: query + [("limit", "200"), ("cursor", cursor)])
            items += page["items"] as? [[String: Any]] ?? []
            cursor = page["next_cursor"] as? String
        } while cursor != nil && items.count < max
        return items
    }
}

/// Prints a JSON value readably.
func printJSON(_ object: Any) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

func text(_ v: Any?) -> String {
    switch v {
    case let s as String: s
    case let n as NSNumber: n.stringValue
    case nil, is NSNull: "-"
    default: "\(v!)"
    }
}
