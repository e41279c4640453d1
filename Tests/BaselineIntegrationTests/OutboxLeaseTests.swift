import BaselineKafka
@testable import BaselinePipeline
import BaselinePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// Holds an outbox lease in a transaction of its own, as another instance mid-drain does.
enum OutboxLeaseHolder {
    struct Busy: Error {}

    /// Runs `body` while this session holds the lease `name` (waits briefly for another test's relay to finish its round).
    static func holding<T: Sendable>(_ name: String, client: PostgresClient, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let result: T? = try await client.withTransaction(logger: TestStack.logger) { conn -> T? in
                var got = false
                for try await g in try await conn.query("SELECT pg_try_advisory_xact_lock(\(OutboxLease.namespace), hashtext(\(name)))",
                                                        logger: TestStack.logger).decode(Bool.self) { got = g }
                guard got else { return nil }
                return try await body()
            }
            if let result { return result }
            guard ContinuousClock.now < deadline else { throw Busy() }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// The outbox lease: released by commit, rollback or a lost connection, never left held by a
/// pooled connection; its work runs on the connection that holds it.
@Suite struct OutboxLeaseTests {
    struct Failed: Error {}

    func leaseLocks(_ name: String, _ client: PostgresClient) async throws -> Int64 {
        var n: Int64 = -1
        for try await c in try await client.query("""
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid::int8 = \(Int64(OutboxLease.namespace))
              AND objid::int8 = (hashtext(\(name))::int8 & 4294967295) AND objsubid = 2
            """).decode(Int64.self) { n = c }
        return n
    }

    @Test func aLeaseHeldElsewhereSkipsAndItsHoldersDeathOrFailureReleasesIt() async throws {
        let name = TestStack.unique("lease")
        try await TestStack.withDatabase { client in
            // Another session holds the lease, then dies (kill -9 of its instance, a network cut).
            let holderPID = MergerFencingTests.Samples<Int32>()
            let holder = Task {
                try await client.withConnection { conn in
                    for try await _ in try await conn.query("SELECT pg_advisory_lock(\(OutboxLease.namespace), hashtext(\(name)))", logger: TestStack.logger) {}
                    for try await pid in try await conn.query("SELECT pg_backend_pid()", logger: TestStack.logger).decode(Int32.self) {
                        holderPID.append(pid)
                    }
                    while !Task.isCancelled { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            while holderPID.all.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            let skipped = try await OutboxLease.withLease(name, client: client, logger: TestStack.logger) { _ in 1 }
            #expect(skipped == nil)
            for try await _ in try await client.query("SELECT pg_terminate_backend(\(holderPID.all[0]))") {}
            holder.cancel()
            _ = await holder.result
            let deadline = ContinuousClock.now + .seconds(10)
            var ran: Int? = nil
            while ran == nil && ContinuousClock.now < deadline {
                // The pool may first hand out the connection that was terminated (it fails, once).
                ran = (try? await OutboxLease.withLease(name, client: client, logger: TestStack.logger) { _ in 1 }) ?? nil
                if ran == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ran == 1)

            // A body that throws: the lease goes with the rolled-back transaction.
            await #expect(throws: Failed.self) {
                try await OutboxLease.withLease(name, client: client, logger: TestStack.logger) { conn -> Int in
                    _ = try await conn.query("SELECT 1", logger: TestStack.logger)
                    throw Failed()
                }
            }
            #expect(try await leaseLocks(name, client) == 0)
            let again = try await OutboxLease.withLease(name, client: client, logger: TestStack.logger) { _ in 2 }
            #expect(again == 2)
        }
    }

    /// The body's work runs on the lease's connection: a pool of one connection does not deadlock.
    @Test func theDrainRunsOnTheLeasesConnection() async throws {
        let url = TestStack.databaseURL + (TestStack.databaseURL.contains("?") ? "&" : "?") + "max_connections=1"
        try await TestStack.withDatabase(url: url) { client in
            let name = TestStack.unique("lease")
            let value = try await OutboxLease.withLease(name, client: client, logger: TestStack.logger) { conn in
                var inside: Int64 = -1
                for try await c in try await conn.query("""
                    SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                      AND classid::int8 = \(Int64(OutboxLease.namespace)) AND objid::int8 = (hashtext(\(name))::int8 & 4294967295)
                    """, logger: TestStack.logger).decode(Int64.self) { inside = c }
                return inside
            }
            #expect(value == 1)
        }
    }

    /// Skips are counted; a long run of them warns.
    @Test func skipsInARowAreCountedAndWarnedAbout() {
        let outbox = TestStack.unique("outbox")
        let capture = LogCapture()
        let logger = Logger(label: "skips") { _ in capture }
        for _ in 0..<(OutboxLeaseSkips.warnEvery - 1) { OutboxLeaseSkips.record(outbox, leased: false, logger: logger) }
        #expect(OutboxLeaseSkips.current(outbox) == OutboxLeaseSkips.warnEvery - 1)
        #expect(capture.entries.isEmpty)
        OutboxLeaseSkips.record(outbox, leased: false, logger: logger)
        #expect(capture.entries.filter { $0.level == .warning && $0.message.contains(outbox) }.count == 1)
        OutboxLeaseSkips.record(outbox, leased: true, logger: logger)
        #expect(OutboxLeaseSkips.current(outbox) == 0)
    }
}
