import ArgumentParser
import BaselineCore
import BaselineKafka
import BaselineWire
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks: the whole pipeline against this machine's own ceilings, or matching alone.",
        subcommands: [All.self, ScaleOut.self, Match.self, Growth.self, GrowthPointCommand.self], defaultSubcommand: All.self)

    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "all",
            abstract: "Measure the whole pipeline on the local stack and print one table: each figure beside its ceiling and target.",
            discussion: """
                Runs the real services (dump-consumer, profile-merger, signal-enricher from the directory this executable is in) \
                as child processes against the given broker and a database it creates afresh (--bench-database, dropped first). \
                The broker must be one of the bench's own: the pipeline's topics are deleted and created again, and services \
                of another stack on it would take part. Use a release build (scripts/bench does all of this). Exits 1 when a \
                target is missed.
                """)
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var db: DatabaseOptions
        @Option(name: .customLong("bench-database"), help: "Database to drop and create for the run.") var benchDatabase = "baseline_bench"
        @Flag(name: .customLong("reset-topics"), help: "Delete and re-create topics that already hold messages (a broker of the bench's own).")
        var resetTopics = false
        @Flag(help: "A short run (smoke test): every figure, small workloads, no verdicts worth reading.") var quick = false
        @Option(help: "Generated dumps for the ingest figures.") var dumps: Int?
        @Option(name: .customLong("nodes-per-dump"), help: "Nodes of each ingested dump.") var nodesPerDump = 200
        @Option(help: "Signals for the enrichment figures.") var signals: Int?
        @Option(help: "How often the same workload's dumps are sent again for the storage growth figure.") var repeats: Int?
        @Option(name: .customLong("latency-rate"), help: "Offered load of the latency figure, signals/s.") var latencyRate = 5000
        @Option(name: .customLong("latency-seconds"), help: "How long the offered load lasts.") var latencySeconds: Double?
        @Option(name: .customLong("resident-nodes"), help: "Nodes of the profile whose resident size is measured.") var residentNodes: Int?
        @Option(name: .customLong("match-sizes"), help: "Profile sizes for the match cost, comma-separated.") var matchSizes: String?
        @Option(help: "Partitions of the re-created topics.") var partitions: Int32 = 4
        @Option(help: "Directory of the service executables (default: this executable's).") var bin: String?
        @OptionGroup(title: "Scale-out: the fleet whose partitions are sized") var fleet: FleetSizing

        func run() async throws {
            let plan = BenchPlan(
                dumps: dumps ?? (quick ? 200 : 3000), signals: signals ?? (quick ? 2000 : 50_000), repeats: repeats ?? (quick ? 10 : 1000),
                latencyRate: latencyRate, latencySeconds: latencySeconds ?? (quick ? 1 : 10),
                residentNodes: residentNodes ?? (quick ? 5000 : 50_000),
                matchSizes: (matchSizes ?? (quick ? "100,1000" : "100,1000,10000,100000")).split(separator: ",").compactMap { Int($0) },
                matches: quick ? 20_000 : 200_000, nodesPerDump: nodesPerDump)
            guard plan.dumps > 0, plan.signals > 0, plan.repeats > 0, plan.latencyRate > 0, plan.latencySeconds > 0,
                  plan.residentNodes > 0, !plan.matchSizes.isEmpty, partitions >= 2 else {
                throw ValidationError("counts, sizes and rates must be positive, partitions at least 2 (the scale-out rows run two instances)")
            }
            let logs = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-bench-\(getpid())").path
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let stack = BenchStack(kafka: try kafka.configuration(), databaseURL: db.database, databaseName: benchDatabase,
                                   partitions: partitions, binDirectory: bin ?? ServiceProcess.ownBinDirectory, logDirectory: logs,
                                   batchSize: quick ? 20 : nil)
            let run = BenchRun(plan: plan, stack: stack, resetTopics: resetTopics, fleet: fleet)
            let table = try await run.measure()
            print(table.render())
            print("\nservice logs: \(logs)")
            // A quick run is a smoke test: its figures are too small to judge.
            if !table.missed.isEmpty && !quick {
                print("missed: " + table.missed.map(\.figure).joined(separator: "; "))
                throw ExitCode(1)
            }
        }
    }
}

extension BenchCommand {
    /// The scale-out part of `bench all` on its own.
    struct ScaleOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scaleout",
            abstract: "Each service with two instances beside one on the same backlog, and the partitions a stated fleet needs.",
            discussion: """
                The scale-out rows of `bench all` alone: dump-consumer, profile-merger and signal-enricher each run as two \
                instances of one consumer group and then as one, on the same messages; the profiles of two mergers are compared \
                row by row with one merger's; the partitions of each input topic for the stated fleet follow from the rates of \
                one instance (⌈required rate × headroom ÷ rate of one instance⌉). The same broker and database rules as `bench all`.
                """)
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var db: DatabaseOptions
        @Option(name: .customLong("bench-database"), help: "Database to drop and create for the run (and <name>_scaled).") var benchDatabase = "baseline_bench"
        @Flag(name: .customLong("reset-topics"), help: "Delete and re-create topics that already hold messages (a broker of the bench's own).")
        var resetTopics = false
        @Flag(help: "A short run: small workloads.") var quick = false
        @Option(help: "Generated dumps.") var dumps: Int?
        @Option(name: .customLong("nodes-per-dump"), help: "Nodes of each dump.") var nodesPerDump = 200
        @Option(help: "Generated signals.") var signals: Int?
        @Option(help: "Partitions of the re-created topics (at least 2).") var partitions: Int32 = 4
        @Option(help: "Directory of the service executables (default: this executable's).") var bin: String?
        @OptionGroup(title: "The fleet whose partitions are sized") var fleet: FleetSizing

        func run() async throws {
            var plan = BenchPlan(dumps: dumps ?? (quick ? 200 : 3000), signals: signals ?? (quick ? 2000 : 50_000), repeats: 1,
                                 latencyRate: 1, latencySeconds: 1, residentNodes: 1, matchSizes: [], matches: 0)
            plan.nodesPerDump = nodesPerDump
            guard plan.dumps > 0, plan.signals > 0, partitions >= 2 else {
                throw ValidationError("dumps and signals must be positive, partitions at least 2 (two instances share them)")
            }
            let logs = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-bench-\(getpid())").path
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let stack = BenchStack(kafka: try kafka.configuration(), databaseURL: db.database, databaseName: benchDatabase,
                                   partitions: partitions, binDirectory: bin ?? ServiceProcess.ownBinDirectory, logDirectory: logs,
                                   batchSize: quick ? 20 : nil)
            let progress = BenchProgress(steps: 2)
            progress.show(1, "generating \(plan.dumps) dumps and \(plan.signals) signals")
            let fixtures = try BenchFixtures(plan: plan, partitions: Int(partitions))
            let producer = try KafkaProducer(configuration: stack.kafka, logger: cliLogger)
            defer { producer.triggerClose() }
            // The same guards as `bench all` (BenchRun): a local broker unless told, a database of its own.
            if !resetTopics && !stack.brokersAreLocal {
                throw ValidationError("the broker at \(stack.kafka.brokers) is not on this machine: the bench deletes and re-creates the pipeline's topics; give it a broker of its own and --reset-topics (scripts/bench does)")
            }
            try stack.checkBenchDatabaseName()
            let held = try await stack.messages(in: BenchStack.topics)
            if held > 0 && !resetTopics {
                throw ValidationError("the broker at \(stack.kafka.brokers) holds \(held) message(s) on the pipeline's topics: give the bench a broker of its own and --reset-topics (scripts/bench does)")
            }
            let bench = ScaleOutBench(stack: stack, progress: progress, step: 2)
            let figures = try await bench.measure(fixtures, producer: producer)
            progress.finish()
            var table = BenchTable()
            for row in figures.rows(fleet: fleet, instances: bench.instances) { table.add(row) }
            print(table.render())
            print("\nservice logs: \(logs)")
            if !table.missed.isEmpty && !quick {
                print("missed: " + table.missed.map(\.figure).joined(separator: "; "))
                throw ExitCode(1)
            }
        }
    }
}

/// How much the bench does.
struct BenchPlan: Sendable {
    var dumps: Int
    var signals: Int
    var repeats: Int
    var latencyRate: Int
    var latencySeconds: Double
    var residentNodes: Int
    var matchSizes: [Int]
    var matches: Int
    /// Size of the ingested dumps (the generator's trees, padded with shared libraries).
    var nodesPerDump = 200
    /// Dumps of one container sent again `repeats` times for the storage growth figure.
    var repeatedDumps = 4
}
