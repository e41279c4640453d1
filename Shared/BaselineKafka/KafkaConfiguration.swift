/// librdkafka properties for a client. Every property passes through unchanged, so production
/// clusters with TLS/SASL (`security.protocol`, `sasl.*`, `ssl.*`) work without code changes.
public struct KafkaConfiguration: Sendable {
    public var brokers: String
    /// Extra librdkafka properties, applied after Baseline's defaults (so they win).
    public var properties: [String: String]

    public init(brokers: String, properties: [String: String] = [:]) {
        self.brokers = brokers
        self.properties = properties
    }

    /// Defaults valid for any Kafka broker; all overridable through `properties`. Group timing
    /// keeps librdkafka's defaults (session.timeout.ms=45000, heartbeat.interval.ms=3000): Apache
    /// Kafka rejects a session timeout below its group.min.session.timeout.ms (6000). The local
    /// Tansu stack tunes them through BASELINE_KAFKA_PROPERTIES instead (`scripts/stack env`).
    static let consumerDefaults: [String: String] = [
        "fetch.wait.max.ms": "100",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "enable.partition.eof": "false",
        "enable.metrics.push": "false",
    ]

    static let producerDefaults: [String: String] = [
        "acks": "all",
        "enable.idempotence": "true",
        "linger.ms": "5",
        "enable.metrics.push": "false",
    ]

    /// Consumer-only properties a configuration shared by all clients commonly carries (the
    /// local stack's group timing). librdkafka ignores them in a producer but logs a warning each
    /// time, so producers leave them out; and the other way round.
    static let consumerOnly: Set<String> = [
        "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "group.instance.id",
        "group.protocol", "group.remote.assignor", "partition.assignment.strategy", "auto.offset.reset",
        "enable.auto.commit", "auto.commit.interval.ms", "enable.auto.offset.store", "enable.partition.eof",
        "fetch.wait.max.ms", "fetch.min.bytes", "fetch.max.bytes", "isolation.level", "check.crcs",
    ]
    static let producerOnly: Set<String> = [
        "acks", "request.required.acks", "enable.idempotence", "linger.ms", "queue.buffering.max.ms",
        "queue.buffering.max.messages", "queue.buffering.max.kbytes", "batch.num.messages", "batch.size",
        "compression.type", "compression.codec", "compression.level", "message.timeout.ms",
        "delivery.timeout.ms", "partitioner", "transactional.id", "transaction.timeout.ms",
    ]

    /// Defaults, then the client's own `extra`, then the shared `properties` (minus those
    /// `ignoring` names, which belong to the other kind of client).
    func merged(defaults: [String: String], extra: [String: String], ignoring: Set<String> = []) -> [(String, String)] {
        var all = defaults
        all["bootstrap.servers"] = brokers
        for (k, v) in extra { all[k] = v }
        for (k, v) in properties where !ignoring.contains(k) { all[k] = v }
        return all.sorted { $0.key < $1.key }
    }

    /// Parses `key=value` pairs separated by commas or newlines (`#` starts a comment line), the
    /// format of `BASELINE_KAFKA_PROPERTIES` and of a properties file.
    public static func parseProperties(_ text: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "," }) {
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw KafkaError("malformed Kafka property '\(line)': expected key=value")
            }
            let key = line[..<eq].trimmingCharacters(in: " \t")
            let value = line[line.index(after: eq)...].trimmingCharacters(in: " \t")
            guard !key.isEmpty else { throw KafkaError("malformed Kafka property '\(line)': empty key") }
            result[key] = value
        }
        return result
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
