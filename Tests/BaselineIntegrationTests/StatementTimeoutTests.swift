@testable import BaselinePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// profile-merger and signal-enricher run their PostgreSQL client with a statement timeout
/// (BASELINE_DATABASE_STATEMENT_TIMEOUT_SECONDS): a statement that hangs becomes an error the
/// stage retries and reports, while migrations, which may rightly take longer, are exempt.
@Suite struct StatementTimeoutTests {
    @Test func aHangBecomesATransientFailureButAMigrationMayWaitLonger() async throws {
        try TestStack.requireDatabase()
        let limited = try DatabaseConfiguration(url: TestStack.databaseURL).makeClient(logger: TestStack.logger,
                                                                                       statementTimeout: .seconds(1))
        try await TestStack.withDatabase { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await limited.run() }
                defer { group.cancelAll() }
                do {
                    for try await _ in try await limited.query("SELECT pg_sleep(3)") {}
                    Issue.record("a 3 s statement outlived a 1 s statement timeout")
                } catch {
                    #expect(DatabaseFailure.classify(error) == .transient, "\(error)")
                    #expect(DatabaseFailure.describe(error).contains("57014"), "\(DatabaseFailure.describe(error))")
                }
                // Another instance migrating (it holds the migration lock for longer than the timeout).
                let holding = MergerFencingTests.Flag()
                let holder = Task {
                    try await client.withTransaction(logger: TestStack.logger) { conn in
                        for try await _ in try await conn.query("SELECT pg_advisory_xact_lock(\(Migrator.advisoryLockKey))", logger: TestStack.logger) {}
                        holding.set()
                        try await Task.sleep(for: .seconds(2))
                    }
                }
                while !holding.isSet { try await Task.sleep(for: .milliseconds(10)) }
                try await Migrator().migrate(limited, logger: TestStack.logger)
                try await holder.value
            }
        }
    }
}
