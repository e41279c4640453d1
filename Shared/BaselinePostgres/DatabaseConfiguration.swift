import Logging
import PostgresNIO

/// Where the database is, from a `postgres://user:password@host:port/database?sslmode=…` URL.
public struct DatabaseConfiguration: Sendable, CustomStringConvertible {
    /// libpq's `sslmode`: `require` encrypts without verifying the server, `verify-ca` checks the
    /// certificate chain, `verify-full` checks the chain and that the certificate names the host.
    public enum TLSMode: String, Sendable { case disable, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// `sslrootcert`: a PEM file of the CAs to trust (else the system's).
    public var rootCertificatePath: String?
    public var maximumConnections: Int

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String,
                tls: TLSMode = .disable, maximumConnections: Int = 10) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maximumConnections = maximumConnections
    }

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses a libpq-style URL: `sslmode` (disable, allow, prefer, require, verify-ca,
    /// verify-full, as libpq defines them), `sslrootcert`, `max_connections`; IPv6 hosts in
    /// brackets (`postgres://u@[::1]:5432/db`).
    public init(url: String) throws {
        var rest = Substring(url)
        guard let scheme = rest.range(of: "://"), ["postgres", "postgresql"].contains(String(rest[..<scheme.lowerBound])) else {
            throw InvalidURL(description: "database URL must start with postgres:// (got '\(Self.redact(url))')")
        }
        rest = rest[scheme.upperBound...]
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") { path = rest[rest.index(after: slash)...]; rest = rest[..<slash] }
        var user = "postgres"
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let creds = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = creds.firstIndex(of: ":") {
                user = Self.percentDecoded(creds[..<colon])
                password = Self.percentDecoded(creds[creds.index(after: colon)...])
            } else {
                user = Self.percentDecoded(creds)
            }
        }
        var host = String(rest)
        var port = 5432
        var portText: Substring?
        if rest.hasPrefix("[") {
            // IPv6 literal: [addr] or [addr]:port
            guard let close = rest.firstIndex(of: "]") else {
                throw InvalidURL(description: "database URL has an unclosed IPv6 address: '\(Self.redact(url))'")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw InvalidURL(description: "database URL has text after the IPv6 address: '\(Self.redact(url))'")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        }
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw InvalidURL(description: "database URL has an invalid port: '\(Self.redact(url))'")
            }
            port = p
        }
        if host.isEmpty { host = "127.0.0.1" }
        var tls = TLSMode.disable
        var rootCert: String?
        var maxConnections = 10
        for item in query.split(separator: "&") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "sslmode":
                switch kv[1] {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require": tls = .require
                case "verify-ca": tls = .verifyCA
                case "verify-full": tls = .verifyFull
                default: throw InvalidURL(description: "unknown sslmode '\(kv[1])'")
                }
            case "sslrootcert":
                rootCert = Self.percentDecoded(Substring(kv[1]))
            case "max_connections":
                guard let n = Int(kv[1]), n > 0 else { throw InvalidURL(description: "max_connections must be a positive integer") }
                maxConnections = n
            default: continue
            }
        }
        let database = path.isEmpty ? user : Self.percentDecoded(path)
        self.init(host: host, port: port, username: user, password: password, database: database, tls: tls,
                  maximumConnections: maxConnections)
        rootCertificatePath = rootCert
    }

    /// The TLS settings `sslmode` means: verification only where libpq's mode verifies.
    public var tlsConfiguration: TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable, .prefer, .require: c.certificateVerification = .none
        case .verifyCA: c.certificateVerification = .noHostnameVerification
        case .verifyFull: c.certificateVerification = .fullVerification
        }
        if let rootCertificatePath { c.trustRoots = .file(rootCertificatePath) }
        return c
    }

    public var description: String {
        "postgres://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// `statementTimeout`: the server cancels a statement that runs longer (SQLSTATE 57014); for
    /// services that answer people (profile-api), so one slow query cannot hold the pool.
    public func makeClient(logger: Logger, statementTimeout: Duration? = nil) -> PostgresClient {
        let tlsConfig: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsConfig = .disable
        case .prefer: tlsConfig = .prefer(tlsConfiguration)
        case .require, .verifyCA, .verifyFull: tlsConfig = .require(tlsConfiguration)
        }
        var config = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                  database: database, tls: tlsConfig)
        config.options.maximumConnections = maximumConnections
        if let statementTimeout {
            let ms = max(1, Int(statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000))
            config.options.additionalStartupParameters.append(("statement_timeout", "\(ms)"))
        }
        return PostgresClient(configuration: config, backgroundLogger: logger)
    }

    static func redact(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }

    static func percentDecoded(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        while i < u.endIndex {
            let c = u[i]
            if c == UInt8(ascii: "%"), let h1 = u.index(i, offsetBy: 1, limitedBy: u.endIndex), h1 < u.endIndex,
               let h2 = u.index(i, offsetBy: 2, limitedBy: u.endIndex), h2 < u.endIndex,
               let v = UInt8(String(decoding: [u[h1], u[h2]], as: UTF8.self), radix: 16) {
                bytes.append(v)
                i = u.index(i, offsetBy: 3)
            } else {
                bytes.append(c)
                i = u.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
