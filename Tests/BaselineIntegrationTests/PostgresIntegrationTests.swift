import BaselinePostgres
import Foundation
import PostgresNIO
import Testing

@Suite struct PostgresIntegrationTests {
    @Test func migrationsApplyOnceEvenWhenStartedConcurrentlyAndTwice() async throws {
        let dbName = "baseline_test_\(UInt32.random(in: 0 ... .max))"
        try await TestStack.withDatabase { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(dbName)"))
        }
        var config = try DatabaseConfiguration(url: TestStack.databaseURL)
        config.database = dbName
        let url = "postgres://\(config.username):\(config.password ?? "")@\(config.host):\(config.port)/\(dbName)"
        let allVersions = Migrations.all.map(\.version).sorted()

        let applied: [Int]
        do {
            applied = try await TestStack.withDatabase(url: url) { client in
                try await withThrowingTaskGroup(of: [Int].self) { group in
                    for _ in 0..<3 { group.addTask { try await Migrator().migrate(client, logger: TestStack.logger) } }
                    var all: [Int] = []
                    for try await a in group { all += a }
                    return all
                }
            }
        } catch {
            Issue.record("concurrent migrations failed: \(String(reflecting: error))")
            throw error
        }
        #expect(applied.sorted() == allVersions)  // each version applied exactly once across the three

        let second = try await TestStack.withDatabase(url: url) { client in
            let again = try await Migrator().migrate(client, logger: TestStack.logger)
            var versions: [Int] = []
            for try await v in try await client.query("SELECT version FROM schema_migrations ORDER BY version").decode(Int.self) {
                versions.append(v)
            }
            return (again, versions)
        }
        #expect(second.0.isEmpty)
        #expect(second.1 == allVersions)

        try await TestStack.withDatabase { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(dbName) WITH (FORCE)"))
        }
    }

    @Test func databaseURLParsing() throws {
        let c = try DatabaseConfiguration(url: "postgres://u%40x:p%3Aw@db.example:6432/prof?sslmode=require&max_connections=4")
        #expect(c.username == "u@x")
        #expect(c.password == "p:w")
        #expect(c.host == "db.example")
        #expect(c.port == 6432)
        #expect(c.database == "prof")
        #expect(c.tls == .require)
        #expect(c.maximumConnections == 4)
        #expect(throws: DatabaseConfiguration.InvalidURL.self) { try DatabaseConfiguration(url: "mysql://x") }
        #expect(throws: DatabaseConfiguration.InvalidURL.self) { try DatabaseConfiguration(url: "postgres://h:notaport/db") }
        // sslmode means what libpq documents: require encrypts without verifying, verify-full verifies the host too.
        #expect(c.tlsConfiguration.certificateVerification == .none)
        let ca = try DatabaseConfiguration(url: "postgres://u@db/x?sslmode=verify-ca&sslrootcert=/etc/ssl/ca.pem")
        #expect(ca.tls == .verifyCA && ca.tlsConfiguration.certificateVerification == .noHostnameVerification)
        #expect(ca.rootCertificatePath == "/etc/ssl/ca.pem")
        let full = try DatabaseConfiguration(url: "postgres://u@db/x?sslmode=verify-full")
        #expect(full.tls == .verifyFull && full.tlsConfiguration.certificateVerification == .fullVerification)
        // IPv6 hosts in brackets, with and without a port.
        let v6 = try DatabaseConfiguration(url: "postgres://u:p@[2001:db8::5]:6543/prof")
        #expect(v6.host == "2001:db8::5" && v6.port == 6543 && v6.database == "prof")
        let v6NoPort = try DatabaseConfiguration(url: "postgres://u@[::1]/prof")
        #expect(v6NoPort.host == "::1" && v6NoPort.port == 5432)
        #expect(v6.description == "postgres://u@[2001:db8::5]:6543/prof?sslmode=disable")
        #expect(throws: DatabaseConfiguration.InvalidURL.self) { try DatabaseConfiguration(url: "postgres://u@[::1/prof") }
    }
}
