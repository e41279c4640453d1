import ArgumentParser
import BaselineCore
import BaselineEvaluation
import BaselineKafka
import BaselinePostgres
import Foundation

/// Options shared by `generate` and `evaluate`: which seeded fleet.
struct FleetOptions: ParsableArguments {
    @Option(help: "Seed: the same seed and options give byte-identical dumps and signals.") var seed: UInt64 = 1
    @Flag(help: "The small preset (the integration test's fleet) instead of the default one.") var small = false
    @Option(help: "Image tags per image.") var tags: Int?
    @Option(help: "Containers per image tag.") var replicas: Int?
    @Option(name: .customLong("dumps-per-container"), help: "Dumps per container.") var dumpsPerContainer: Int?
    @Option(name: .customLong("signals-per-kind"), help: "Signals of each kind per image tag.") var signalsPerKind: Int?
    @Option(help: "Hours of event time the dumps cover.") var hours: Double?
    @Option(name: .customLong("start"),
            help: "Event time of the first dump, seconds since the epoch (default: the span ends now, so the broker's plausibility check keeps the times).")
    var startSeconds: Int64?
    @Option(name: .customLong("tag-suffix"), help: "Appended to every image tag (a fresh profile version per run).") var tagSuffix: String?

    func configuration(defaultTagSuffix: String = "") throws -> FleetConfiguration {
        var c = small ? FleetConfiguration.small : FleetConfiguration()
        c.seed = seed
        if let tags { c.tagsPerImage = tags }
        if let replicas { c.replicasPerTag = replicas }
        if let dumpsPerContainer { c.dumpsPerContainer = dumpsPerContainer }
        if let signalsPerKind { c.signalsPerKind = signalsPerKind }
        if let hours { c.spanHours = hours }
        c.imageTagSuffix = tagSuffix ?? defaultTagSuffix
        let now = Timestamps.nanoseconds(Date()) ?? 0
        c.startNanoseconds = startSeconds.map { $0 * 1_000_000_000 } ?? (now - c.spanNanoseconds - 60 * 1_000_000_000)
        for problem in c.problems() { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
        guard c.tagsPerImage > 0, c.replicasPerTag > 0, c.dumpsPerContainer > 0, c.spanHours > 0 else {
            throw ValidationError("tags, replicas, dumps per container and hours must be positive")
        }
        return c
    }
}

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a seeded, reproducible fleet: dumps, signals and their ground truth.",
        discussion: """
            Writes DIR/dumps/*.json (Baseline dump format), DIR/signals/*.json (Datadog security-signal JSON, each with an \
            "id"), DIR/ground-truth.jsonl (one line per signal: id, kind, expected verdict) and DIR/summary.json. Signal kinds: \
            core and rare behaviour, new binaries, known binaries under new parents, other applets of a known multi-call binary, \
            known files opened by an unknown process, known activity under an unknown parent, names outside a mined pattern, and \
            signals without ancestry.
            """)
    @OptionGroup var fleet: FleetOptions
    @Option(name: .shortAndLong, help: "Output directory (created).") var output = "fleet"

    func run() async throws {
        let generated = FleetGenerator.generate(try fleet.configuration())
        let fm = FileManager.default
        for sub in ["dumps", "signals"] { try fm.createDirectory(atPath: "\(output)/\(sub)", withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (i, dump) in generated.dumps.enumerated() {
            try Data(try encoder.encode(dump)).write(to: URL(fileURLWithPath: String(format: "%@/dumps/%06d.json", output, i)))
        }
        var truth = Data()
        for signal in generated.signals {
            try Data(signal.bytes).write(to: URL(fileURLWithPath: "\(output)/signals/\(signal.id).json"))
            truth.append(try encoder.encode(signal))
            truth.append(0x0A)
        }
        try truth.write(to: URL(fileURLWithPath: "\(output)/ground-truth.jsonl"))
        encoder.outputFormatting.insert(.prettyPrinted)
        try Data(try encoder.encode(generated.summary)).write(to: URL(fileURLWithPath: "\(output)/summary.json"))
        print(generated.summary.text)
        print("wrote \(generated.dumps.count) dumps and \(generated.signals.count) signals to \(output)/")
    }
}

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Feed a generated fleet through the running pipeline (Kafka in, Kafka out) and print a confusion table per kind.",
        discussion: """
            Needs dump-consumer, profile-merger and signal-enricher running against the same broker and database. Sends the \
            fleet's dumps, waits until PostgreSQL says every version is stable, sends the signals and reads their enriched \
            copies. Exits 1 when a detection target is missed. Each run uses fresh image tags (--tag-suffix) so earlier runs \
            do not interfere.
            """)
    @OptionGroup var fleet: FleetOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var db: DatabaseOptions
    @Option(help: "Seconds to wait for every version to turn stable.") var stableTimeout = 600
    @Option(help: "Seconds to wait for the enriched signals.") var outputTimeout = 120

    func run() async throws {
        let config = try fleet.configuration(defaultTagSuffix: "-eval\(UInt32.random(in: 0 ... .max))")
        let generated = FleetGenerator.generate(config)
        print(generated.summary.text)
        let kafkaConfig = try kafka.configuration()
        let (stableTimeout, outputTimeout) = (self.stableTimeout, self.outputTimeout)
        let tally = try await db.withClient { client in
            var evaluation = FleetEvaluation(kafka: kafkaConfig, client: client, logger: cliLogger)
            evaluation.stableTimeout = .seconds(stableTimeout)
            evaluation.outputTimeout = .seconds(outputTimeout)
            evaluation.progress = { line in FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
            defer { FileHandle.standardError.write(Data("\n".utf8)) }
            return try await evaluation.run(generated)
        }
        print(tally.render())
        if !tally.passed { throw ExitCode(1) }
    }
}
