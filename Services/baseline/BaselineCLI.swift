// baseline: the command-line tool. Sends dumps and signals, validates dumps offline, tails topics.
import ArgumentParser
import BaselineCore
import BaselineKafka
import BaselinePostgres
import BaselineWire
import Foundation
import Logging
import PostgresNIO

@main
struct BaselineCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Baseline: security profiles for container workloads.",
        subcommands: [DumpCommand.self, SnapshotCommand.self, SignalCommand.self, ProfilesCommand.self, SuggestionsCommand.self,
                      AnomaliesCommand.self, OverridesCommand.self, TopicCommand.self, GenerateCommand.self, EvaluateCommand.self,
                      BenchCommand.self])
}

struct KafkaOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers (default: $BASELINE_KAFKA_BROKERS or 127.0.0.1:9092).")
    var brokers: String = ProcessInfo.processInfo.environment["BASELINE_KAFKA_BROKERS"] ?? "127.0.0.1:9092"

    @Option(name: .customLong("property"), help: "Extra librdkafka property key=value (repeatable).")
    var properties: [String] = []

    func configuration() throws -> KafkaConfiguration {
        try LibRdKafka.requireMinimumVersion()
        var props = try KafkaConfiguration.parseProperties(ProcessInfo.processInfo.environment["BASELINE_KAFKA_PROPERTIES"] ?? "")
        props.merge(try KafkaConfiguration.parseProperties(properties.joined(separator: "\n"))) { $1 }
        return KafkaConfiguration(brokers: brokers, properties: props)
    }
}

var cliLogger: Logger {
    var l = Logger(label: "baseline")
    l.logLevel = .warning
    return l
}

/// Reads each argument as one payload; `-` is standard input.
func readPayloads(_ files: [String]) throws -> [(name: String, bytes: [UInt8])] {
    try files.map { file in
        if file == "-" { return ("-", Array(FileHandle.standardInput.readDataToEndOfFile())) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        return (file, Array(data))
    }
}

/// Produces files as messages, in chunks, with progress on standard error.
func send(files: [String], topic: String, kafka: KafkaOptions, key: String? = nil,
          headers: (String) -> [KafkaHeader] = { _ in [] }, transform: ([UInt8]) -> [UInt8] = { $0 }) async throws {
    let producer = try KafkaProducer(configuration: try kafka.configuration(), logger: cliLogger)
    defer { producer.triggerClose() }
    var sent = 0
    for chunk in stride(from: 0, to: files.count, by: 200) {
        let slice = Array(files[chunk..<min(chunk + 200, files.count)])
        let payloads = try readPayloads(slice)
        _ = try await producer.sendAll(payloads.map {
            KafkaRecord(topic: topic, key: key.map { Array($0.utf8) }, value: transform($0.bytes), headers: headers($0.name))
        })
        sent += payloads.count
        if files.count > 200 { FileHandle.standardError.write(Data("\rsent \(sent)/\(files.count)".utf8)) }
    }
    if files.count > 200 { FileHandle.standardError.write(Data("\n".utf8)) }
    print("sent \(sent) message(s) to \(topic)")
}

struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump", abstract: "Activity dumps.",
                                                    subcommands: [Send.self, Validate.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Produce dump files (any accepted format) to activity-dumps.")
        @OptionGroup var kafka: KafkaOptions
        @Option(help: "Topic to produce to.") var topic = Topics.activityDumps
        @Option(help: "Message key (same key: same partition, so the files keep their order).") var key: String?
        @Flag(help: "Shift the JSON dumps' event times together so the newest ends a minute ago (replaying old samples).")
        var retime = false
        @Argument(help: "Dump files; - reads standard input.") var files: [String]

        func run() async throws {
            var delta: Int64 = 0
            if retime {
                let latest = try readPayloads(files).compactMap { DumpRetimer.latest($0.bytes) }.max()
                let target = Int64(Date().timeIntervalSince1970) * 1_000_000_000 - 60 * 1_000_000_000
                delta = latest.map { target - $0 } ?? 0
            }
            try await send(files: files, topic: topic, kafka: kafka, key: key, transform: { [delta] bytes in
                delta == 0 ? bytes : DumpRetimer.shifted(bytes, by: delta)
            })
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report what dump-consumer would do with each file, without Kafka. Exits 1 if any is rejected.")
        @Argument(help: "Dump files; - reads standard input.") var files: [String]

        func run() async throws {
            let decoder = DumpDecoder()
            var rejected = 0
            for (name, bytes) in try readPayloads(files) {
                do {
                    let r = try decoder.decode(bytes, receivedAt: 0)
                    print("\(name): accepted as \(r.sourceFormat): profile \(r.profileKey):\(r.dump.workload.imageTag), "
                          + "instance \(r.dump.workload.instanceID), dump id \(r.dumpID), \(r.dump.nodeCount) nodes")
                } catch {
                    rejected += 1
                    print("\(name): rejected (\(error.code)): \(error.reason)")
                }
            }
            if rejected > 0 { throw ExitCode(1) }
        }
    }
}

struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signal", abstract: "Security signals.", subcommands: [Send.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Produce signal files to security-signals.")
        @OptionGroup var kafka: KafkaOptions
        @Option(help: "Topic to produce to.") var topic = Topics.securitySignals
        @Option(help: "Message key (kept on the enriched signal).") var key: String?
        @Argument(help: "Signal files (JSON); - reads standard input.") var files: [String]

        func run() async throws {
            try await send(files: files, topic: topic, kafka: kafka, key: key)
        }
    }
}

struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topic", abstract: "Inspect topics.", subcommands: [Tail.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a topic's messages from the beginning, then stop when idle.")
        @OptionGroup var kafka: KafkaOptions
        @Argument(help: "Topic name.") var topic: String
        @Option(help: "Print at most this many (the last ones).") var limit = 50
        @Option(help: "Print only this top-level JSON field of each message.") var field: String?
        @Option(help: "Stop after this many idle seconds.") var idle = 2.0
        @Option(help: "Only messages with this key.") var key: String?

        func run() async throws {
            let consumer = try KafkaConsumer(configuration: try kafka.configuration(),
                                             groupID: "baseline-cli-\(UInt32.random(in: 0 ... .max))", topics: [topic],
                                             logger: cliLogger)
            var messages: [KafkaMessage] = []
            var idleSince = ContinuousClock.now
            let joinDeadline = ContinuousClock.now + .seconds(5)
            while true {
                let batch = try await consumer.poll(maxMessages: 1000, maxWaitMs: 200)
                if !batch.isEmpty {
                    messages += batch.filter { key == nil || $0.keyString == key }
                    if messages.count > limit { messages.removeFirst(messages.count - limit) }
                    idleSince = ContinuousClock.now
                } else if ContinuousClock.now - idleSince > .seconds(idle) && (ContinuousClock.now > joinDeadline || !consumer.assignment.isEmpty) {
                    break
                }
            }
            await consumer.close()
            print("\(topic): \(messages.count) message(s)")
            for m in messages {
                var line = "[\(m.partition)@\(m.offset)]"
                if let k = m.keyString { line += " key=\(k)" }
                let reasons = m.headers.filter { $0.name.hasPrefix("baseline-error") }.compactMap { h in h.stringValue.map { "\(h.name)=\($0)" } }
                if !reasons.isEmpty { line += " " + reasons.joined(separator: " ") }
                print(line)
                print("  " + render(m.value))
            }
        }

        func render(_ value: [UInt8]) -> String {
            if let field, let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any], let v = object[field],
               let data = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) {
                return String(decoding: data, as: UTF8.self)
            }
            guard let s = String(validating: value, as: UTF8.self) else { return "<\(value.count) bytes, not UTF-8>" }
            return s.count > 400 ? String(s.prefix(400)) + "…" : s
        }
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (default: $BASELINE_DATABASE_URL or the local stack).")
    var database: String = ProcessInfo.processInfo.environment["BASELINE_DATABASE_URL"]
        ?? "postgres://baseline:baseline@127.0.0.1:55432/baseline"

    /// Runs `body` with a connected client.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = try DatabaseConfiguration(url: database).makeClient(logger: cliLogger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            group.addTask { try await body(client) }
            defer { group.cancelAll() }
            while let r = try await group.next() { if let r { return r } }
            throw ValidationError("database client stopped")
        }
    }
}
