import Foundation
import Testing

/// `baseline bench --quick` runs end to end (the real services as children, a broker of its own,
/// a fresh database) and prints every figure. A smoke test only: the figures of a debug build on
/// a shared machine mean nothing, so no number is checked (benchmarks are not tests).
@Suite struct BenchSmokeTests {
    /// The bench deletes and re-creates the pipeline's topics, so it gets a broker of its own
    /// (scripts/test starts one): never the tests' shared broker.
    static let brokers = ProcessInfo.processInfo.environment["BASELINE_BENCH_KAFKA_BROKERS"]
    /// The databases the bench drops and creates (this one and `<name>_scaled`): named after the
    /// tests' own database, so test runs against different databases never share them.
    static var benchDatabase: String {
        if let name = ProcessInfo.processInfo.environment["BASELINE_BENCH_DATABASE"] { return name }
        let path = TestStack.databaseURL.prefix { $0 != "?" }
        return String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...]) + "_bench"
    }

    @Test func quickBenchPrintsEveryFigure() async throws {
        try TestStack.requireDatabase()
        guard let brokers = Self.brokers, TestStack.portOpen(brokers) else {
            Issue.record("BASELINE_BENCH_KAFKA_BROKERS must name a broker of the bench's own (scripts/test starts one on port 9392)")
            return
        }
        let binary = GracefulShutdownTests.repo.appendingPathComponent(".build/debug/baseline")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing: build the executables first (scripts/test runs swift build --build-tests)")
            return
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["bench", "--quick", "--reset-topics", "--brokers", brokers, "--database", TestStack.databaseURL,
                             "--bench-database", Self.benchDatabase]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        let deadline = ContinuousClock.now + .seconds(600)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        let text = String(decoding: await reader.value, as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "bench failed:\n\(text)")
        for figure in ["resident bytes per node", "match per signal at", "match cost, largest", "core merge in memory",
                       "ingest: activity-dumps → PostgreSQL rows", "core per dump in memory", "PostgreSQL bytes per distinct node", "after the same",
                       "enrichment: security-signals → .enriched", "core per signal in memory", "latency in → enriched out",
                       "p50 / p99 / p99.9 / max", "profile-merger ×2", "signal-enricher ×2",
                       "profiles of 2 mergers = 1 merger's", "partitions of activity-dumps", "partitions of profile-merge-requests",
                       "partitions of security-signals"] {
            #expect(text.contains(figure), "no '\(figure)' row in:\n\(text)")
        }
        // Every row has a measured value (no row left blank by a step that silently did nothing).
        let rows = text.split(separator: "\n").drop { !$0.hasPrefix("---") }.dropFirst().prefix { !$0.isEmpty }
        #expect(rows.count >= 16)
        for row in rows { #expect(!row.contains("n/a"), "a figure without a value: \(row)") }
        // Two mergers make the same profiles as one, even in a quick run. (Whether each instance
        // took work is printed but not checked here: with a debug build and 2,000 signals the first
        // enricher to join was seen to enrich all of them before the second one's join completed.)
        let identity = rows.first { $0.contains("profiles of 2 mergers = 1 merger's") }
        #expect(identity?.hasSuffix("met") == true && identity?.contains("identical") == true, "profiles differ: \(identity ?? "no row")")
    }
}
