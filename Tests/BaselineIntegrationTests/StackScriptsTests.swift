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

    /// A fresh directory of mode 700 (mkdtemp): a fixed path in /tmp could be planted by another
    /// local user with a scripts/stack of their own, which the test would then run, as root.
    let base: URL
    var checkout: URL { base.appendingPathComponent("home/baseline") }
    var leftoverPrefix: String { "baseline-stack-test-\(pgPort)-" }

    init() throws {
        let prefix = "baseline-stack-test-" + (ProcessInfo.processInfo.environment["BASELINE_STACK_TEST_PG_PORT"] ?? "55532") + "-"
        var template = Array((FileManager.default.temporaryDirectory.path + "/" + prefix + "XXXXXX").utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw StackTestError.noTemporaryDirectory(errno)
        }
        base = URL(fileURLWithPath: String(cString: created))
    }

    enum StackTestError: Error { case noTemporaryDirectory(Int32) }

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

    /// A run that died half-way left its cluster running on this port: stop it with its own scripts,
    /// but only from a real directory (not a link) that this user owns and nobody else may write.
    func purgeLeftovers() async throws {
        let files = FileManager.default
        let temporary = files.temporaryDirectory
        for name in (try? files.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix(leftoverPrefix) {
            let leftover = temporary.appendingPathComponent(name)
            guard leftover.path != base.path, let attributes = try? files.attributesOfItem(atPath: leftover.path),
                  attributes[.type] as? FileAttributeType == .typeDirectory,
                  (attributes[.ownerAccountID] as? NSNumber)?.uint32Value == getuid(),
                  ((attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777) & 0o077 == 0 else { continue }
            let oldCheckout = leftover.appendingPathComponent("home/baseline")
            if files.fileExists(atPath: oldCheckout.appendingPathComponent("scripts/stack").path) {
                _ = try await ShellCommand.run(["bash", "scripts/stack", "purge"], in: oldCheckout, environment: environment)
            }
            try? files.removeItem(at: leftover)
        }
    }

    /// A checkout of the scripts (the broker's venv linked, as worktrees do) under two levels of mode 700.
    func makeCheckout() async throws {
        let files = FileManager.default
        try await purgeLeftovers()
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

    /// A mistyped BASELINE_PG_DATA naming a directory with other content is neither initialised nor
    /// handed to the postgres user.
    @Test func aNonEmptyDirectoryWithoutAClusterIsLeftAlone() async throws {
        try await makeCheckout()
        defer { try? FileManager.default.removeItem(at: base) }
        let occupied = base.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try Data("keep\n".utf8).write(to: occupied.appendingPathComponent("precious"))
        let ownerBefore = try FileManager.default.attributesOfItem(atPath: occupied.path)[.ownerAccountID] as? NSNumber
        let up = try await stack("up", environment: ["BASELINE_PG_DATA": occupied.path])
        #expect(up.status != 0 && up.output.contains("is not empty"), "\(up.output)")
        let ownerAfter = try FileManager.default.attributesOfItem(atPath: occupied.path)[.ownerAccountID] as? NSNumber
        #expect(ownerAfter == ownerBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied.path) == ["precious"])
    }
}
