import BaselineKafka

/// What a stage produces for a batch, and what to do once the broker acknowledged it.
public struct StageOutput: Sendable {
    public var records: [KafkaRecord]
    public var delivered: @Sendable () async -> Void

    public init(records: [KafkaRecord] = [], delivered: @escaping @Sendable () async -> Void = {}) {
        self.records = records
        self.delivered = delivered
    }

    /// The outputs of parts of a batch handled one at a time, as one.
    static func combined(_ parts: [StageOutput]) -> StageOutput {
        StageOutput(records: parts.flatMap(\.records)) { for part in parts { await part.delivered() } }
    }
}
