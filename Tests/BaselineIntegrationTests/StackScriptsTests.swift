import BaselinePostgres
import Foundation
import PostgresNIO
import Testing

/// `scripts/stack` from a checkout inside a directory of mode 700 (as a clone under /root is): the
/// PostgreSQL server runs as the `postgres` user when the scripts run as root, so its cluster must
/// live where that user can reach it. The test copies the scripts into such a directory and runs
/// them on ports of their own (BASELINE_STACK_TEST_PG_PORT, default 55532; the Kafka port after
/// the tests' broker, or BASELINE_STACK_TEST_KAFKA_PORT), so the running stack is left alone.
@Suite(.serialized) struct StackScriptsTests {
    let pgPort = ProcessInfo.processInfo.environment["BASELINE_STACK_TEST_PG_PORT"] ?? "55532"
    let kafkaPort: String = {
        if let port = ProcessInfo.processInfo.environment["BASELINE_STACK_TEST_KAFKA_PORT"] { return port }
        let testPort = Int(TestStack.brokers.split(separator: ",")[0].split(separator: ":").last ?? "") ?? 9192
        return String(testPort + 1)
    }()

    /// A fixed place per port: a run that died half-way is cleaned up by the next one.
    var base: URL { URL(fileURLWithPath: "/tmp/baseline-stack-test-\(pgPort)") }
    var checkout: URL { base.appendingPathComponent("home/baseline") }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["BASELINE_PG_PORT"] = pgPort
        env["BASELINE_KAFKA_PORT"] = kafkaPort
        env["BASELINE_PG_DATA"] = nil
        return env
    }

    func stack(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> ShellCommand.Result {
        try await ShellCommand.run(["bash", "scripts/stack"] + arguments, in: checkout,
                                   environment: environment.merging(extra) { $1 })
    }

    /// A checkout of the scripts (the broker's venv linked, as worktrees do) under two levels of mode 700.
    func makeCheckout() async throws {
        let files = FileManager.default
        if files.fileExists(atPath: checkout.appendingPathComponent("scripts/stack").path) {
            _ = try await stack("purge")
        }
        try? files.removeItem(at: base)
        try files.createDirectory(at: checkout, withIntermediateDirectories: true)
        for dir in [base, base.appendingPathComponent("home")] {
            try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
        }
        try files.copyItem(at: ShellCommand.repository.appendingPathComponent("scripts"), to: checkout.appendingPathComponent("scripts"))
        let venv = ShellCommand.repository.appendingPathComponent(".kafka").resolvingSymlinksInPath()
        try files.createSymbolicLink(at: checkout.appendingPathComponent(".kafka"), withDestinationURL: venv)
    }

    @Test func theStackRunsFromACheckoutInADirectoryOfMode700() async throws {
        let venvPython = ShellCommand.repository.appendingPathComponent(".kafka/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venvPython) else {
            Issue.record("\(venvPython) is missing: run scripts/setup first (scripts/test does)")
            return
        }
        try await makeCheckout()
        defer { try? FileManager.default.removeItem(at: base) }

        let up = try await stack("up")
        #expect(up.status == 0, "scripts/stack up failed:\n\(up.output)")
        let status = try await stack("status")
        #expect(status.status == 0, "\(status.output)")

        let dataDirectory = try await stack("pg-data").output.trimmingCharacters(in: .whitespacesAndNewlines)
        if getuid() == 0 {
            // Outside the unreachable checkout, owned by the server's user.
            #expect(dataDirectory.hasPrefix("/var/lib/baseline/") && dataDirectory.hasSuffix("/pg"), "\(dataDirectory)")
            let owner = try FileManager.default.attributesOfItem(atPath: dataDirectory)[.ownerAccountName] as? String
            #expect(owner == "postgres")
        } else {
            #expect(dataDirectory == checkout.appendingPathComponent(".data/pg").path)
        }
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION"))

        // The database `scripts/stack env` names answers.
        let env = try await stack("env").output
        let url = try #require(env.split(separator: "\n").first { $0.hasPrefix("export BASELINE_DATABASE_URL=") }?
            .split(separator: "=", maxSplits: 1).last.map(String.init))
        #expect(url.contains(":\(pgPort)/"))
        let database = try await TestStack.withDatabase(url: url) { client in
            var name = ""
            for try await n in try await client.query("SELECT current_database()").decode(String.self) { name = n }
            return name
        }
        #expect(database == "baseline")

        // Asked to stop a cluster on another port than its own, the script refuses.
        let wrongPort = try await stack("down", environment: ["BASELINE_PG_PORT": "1"])
        #expect(wrongPort.status != 0 && wrongPort.output.contains("leaving it alone"), "\(wrongPort.output)")
        #expect(try await stack("status").output.contains("postgresql: up"))

        let down = try await stack("down")
        #expect(down.status == 0, "\(down.output)")
        #expect(try await stack("status").status != 0)

        let purge = try await stack("purge")
        #expect(purge.status == 0, "\(purge.output)")
        #expect(!FileManager.default.fileExists(atPath: dataDirectory))
    }

    @Test func whereTheClusterLives() async throws {
        try await makeCheckout()
        defer { try? FileManager.default.removeItem(at: base) }
        let chosen = "/var/tmp/baseline-elsewhere-\(UInt32.random(in: 0 ... .max))/pg"
        #expect(try await stack("pg-data", environment: ["BASELINE_PG_DATA": chosen]).output == chosen + "\n")
        // A checkout set up before clusters moved out keeps its cluster where it is.
        let legacy = checkout.appendingPathComponent(".data/pg")
        try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
        try Data("15\n".utf8).write(to: legacy.appendingPathComponent("PG_VERSION"))
        #expect(try await stack("pg-data").output == legacy.path + "\n")
    }
}
