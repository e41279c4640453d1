import BaselineCore
import BaselineKafka
import Logging

/// A stage whose only effects are Kafka records (dump-consumer, signal-enricher): each batch maps
/// to records (outputs and dead letters) and what to do once the broker acknowledged them. An
/// input offset is committed only after every output of its batch was acknowledged. A transform
/// that throws ("cannot decide now", e.g. the database is down) is retried, never skipped.
public struct TransformHandler: StageHandler {
    public typealias Transform = @Sendable ([KafkaMessage]) async throws -> StageOutput
    public typealias Classify = @Sendable (any Error) -> StageFailure
    let transform: Transform
    let classifier: Classify?
    public let failureCode: String

    /// `classify`: what retrying can do about a failure of the transform (nil: every failure is
    /// transient, retried until it works); `failureCode`: the dead-letter code of a message whose
    /// transform fails alone every time.
    public init(_ transform: @escaping Transform, classify: Classify? = nil, failureCode: String = "processing_failed") {
        self.transform = transform
        self.classifier = classify
        self.failureCode = failureCode
    }

    public func classify(_ error: any Error) -> StageFailure { classifier?(error) ?? .transient }

    /// The transform reads (and rejects) messages itself.
    public func decode(_ message: KafkaMessage) -> Result<Void, Rejection> { .success(()) }

    public func handle(_ items: [((), KafkaMessage)], span: BatchSpan) async throws -> StageOutput {
        try await transform(items.map(\.1))
    }
}

public typealias TransformStage = ConsumingStage<TransformHandler>

extension ConsumingStage where Handler == TransformHandler {
    /// A stage whose outputs are records only.
    public convenience init(name: String, consumer: KafkaConsumer, producer: KafkaProducer, maxBatch: Int = 500,
                            logger: Logger, onStart: @escaping @Sendable () -> Void = {},
                            transform: @escaping @Sendable ([KafkaMessage]) async throws -> [KafkaRecord]) {
        self.init(name: name, consumer: consumer, producer: producer, maxBatch: maxBatch, logger: logger, onStart: onStart,
                  output: { StageOutput(records: try await transform($0)) })
    }

    public convenience init(name: String, consumer: KafkaConsumer, producer: KafkaProducer, maxBatch: Int = 500,
                            logger: Logger, onStart: @escaping @Sendable () -> Void = {},
                            classify: TransformHandler.Classify? = nil, failureCode: String = "processing_failed",
                            output transform: @escaping TransformHandler.Transform) {
        self.init(name: name, handler: TransformHandler(transform, classify: classify, failureCode: failureCode), consumer: consumer,
                  producer: producer, maxBatch: maxBatch, logger: logger, onStart: onStart)
    }
}
