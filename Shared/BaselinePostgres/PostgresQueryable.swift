import Logging
import PostgresNIO

/// Where a query runs: the pool (any connection), or one connection (inside a transaction or an
/// outbox lease, whose work must stay on the connection that holds the lock).
public protocol PostgresQueryable: Sendable {
    func run(_ query: PostgresQuery, logger: Logger?) async throws -> PostgresRowSequence
}

extension PostgresClient: PostgresQueryable {
    public func run(_ query: PostgresQuery, logger: Logger?) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }
}

extension PostgresConnection: PostgresQueryable {
    public func run(_ query: PostgresQuery, logger: Logger?) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger ?? Self.quiet)
    }

    private static let quiet = Logger(label: "baseline.postgres") { _ in SwiftLogNoOpLogHandler() }
}
