import Crypto
import Foundation

/// What a token may do: `read` (every GET) or `write` (also accept, dismiss, disable, override, import).
public enum APIScope: String, Sendable, Comparable {
    case read, write

    public static func < (a: APIScope, b: APIScope) -> Bool { a == .read && b == .write }
}

/// Who made a request: the token's name, or its fingerprint (never the token), for audit fields.
public struct APIIdentity: Sendable, Hashable {
    public var name: String
    public var scope: APIScope

    public init(name: String, scope: APIScope) {
        self.name = name
        self.scope = scope
    }
}

/// The configured bearer tokens. Tokens are kept only as SHA-256 digests and compared in
/// constant time, so neither a log line nor timing tells a token.
public struct APITokens: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    private var byDigest: [Data: APIIdentity] = [:]

    public init() {}

    public var isEmpty: Bool { byDigest.isEmpty }
    public var count: Int { byDigest.count }

    /// `BASELINE_API_TOKENS` (`TOKEN:read,TOKEN:write`) and `BASELINE_API_TOKENS_FILE` (lines
    /// `TOKEN SCOPE [NAME]`, `#` comments).
    public static func load(inline: String?, file: String?) throws -> APITokens {
        var tokens = APITokens()
        if let inline, !inline.isEmpty {
            for (n, entry) in inline.split(separator: ",").enumerated() {
                let item = entry.trimmingCharacters(in: .whitespaces)
                guard let colon = item.lastIndex(of: ":") else {
                    throw Invalid(description: "BASELINE_API_TOKENS entry \(n + 1) must be TOKEN:read or TOKEN:write")
                }
                try tokens.add(String(item[..<colon]), scope: String(item[item.index(after: colon)...]), name: nil,
                               where: "BASELINE_API_TOKENS entry \(n + 1)")
            }
        }
        if let file, !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw Invalid(description: "BASELINE_API_TOKENS_FILE: cannot read \(file)")
            }
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard fields.count == 2 || fields.count == 3 else {
                    throw Invalid(description: "BASELINE_API_TOKENS_FILE line \(n + 1) must be `TOKEN SCOPE [NAME]`")
                }
                try tokens.add(fields[0], scope: fields[1], name: fields.count == 3 ? fields[2] : nil,
                               where: "BASELINE_API_TOKENS_FILE line \(n + 1)")
            }
        }
        return tokens
    }

    mutating func add(_ token: String, scope raw: String, name: String?, where place: String) throws {
        guard let scope = APIScope(rawValue: raw.lowercased()) else { throw Invalid(description: "\(place): scope must be read or write") }
        guard token.utf8.count >= 16 else { throw Invalid(description: "\(place): a token needs at least 16 characters") }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw Invalid(description: "\(place): a token is printable ASCII without spaces")
        }
        let digest = Self.digest(token)
        // An unnamed token is named by where it is configured, never by anything derived from it
        // (a hash prefix in every audit field would let readers test guesses offline).
        let identity = APIIdentity(name: name ?? place.replacingOccurrences(of: "BASELINE_API_TOKENS_FILE line ", with: "tokens-file:")
                                       .replacingOccurrences(of: "BASELINE_API_TOKENS entry ", with: "token:"), scope: scope)
        if let existing = byDigest[digest], existing.scope > scope { return }
        byDigest[digest] = identity
    }

    /// The identity of a presented token, or nil.
    public func identify(_ token: Substring) -> APIIdentity? {
        let presented = Self.digest(String(token))
        var found: APIIdentity?
        // Every entry is compared, each in constant time: the work does not depend on which matched.
        for (digest, identity) in byDigest where Self.constantTimeEqual(digest, presented) { found = identity }
        return found
    }

    static func digest(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}
