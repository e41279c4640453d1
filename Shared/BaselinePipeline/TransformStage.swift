import BaselineKafka
import Logging
import Metrics
import ServiceLifecycle

/// A consume → transform → produce → commit loop, for stages whose only effects are Kafka
/// records (dump-consumer, signal-enricher). An input offset is committed only after every
/// output of its batch (including dead letters) was acknowledged by the broker; if producing
/// fails the stage stops without committing, so a restart re-processes the batch.
public final class TransformStage: Service, @unchecked Sendable {
    /// Maps one batch of inputs to the records to produce (outputs and dead letters) and what to do
    /// once the broker acknowledged them. Throwing means "cannot decide now" (e.g. the database
    /// is down): the batch is retried, not skipped.
    public typealias Transform = @Sendable ([KafkaMessage]) async throws -> StageOutput

    let name: String
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let transform: Transform
    let maxBatch: Int
    let logger: Logger
    let onStart: @Sendable () -> Void
    /// nil: healthy; else why the stage cannot make progress now (for /readyz).
    public var reportHealth: @Sendable (String?) -> Void = { _ in }
    private let inputs: Counter
    private let outputs: Counter
    private let batchTimer: Timer

    /// A stage whose outputs are records only.
    public convenience init(name: String, consumer: KafkaConsumer, producer: KafkaProducer, maxBatch: Int = 500,
                            logger: Logger, onStart: @escaping @Sendable () -> Void = {},
                            transform: @escaping @Sendable ([KafkaMessage]) async throws -> [KafkaRecord]) {
        self.init(name: name, consumer: consumer, producer: producer, maxBatch: maxBatch, logger: logger, onStart: onStart,
                  output: { StageOutput(records: try await transform($0)) })
    }

    public init(name: String, consumer: KafkaConsumer, producer: KafkaProducer, maxBatch: Int = 500,
                logger: Logger, onStart: @escaping @Sendable () -> Void = {}, output transform: @escaping Transform) {
        self.name = name
        self.consumer = consumer
        self.producer = producer
        self.transform = transform
        self.maxBatch = maxBatch
        self.logger = logger
        self.onStart = onStart
        inputs = Counter(label: "baseline_stage_inputs_total", dimensions: [("stage", name)])
        outputs = Counter(label: "baseline_stage_outputs_total", dimensions: [("stage", name)])
        batchTimer = Timer(label: "baseline_stage_batch_seconds", dimensions: [("stage", name)], preferredDisplayUnit: .seconds)
    }

    public func run() async throws {
        onStart()
        try await consumer.runUntilShutdown(maxMessages: maxBatch, logger: logger) { batch in
            let started = ContinuousClock.now
            let output = try await transformRetrying(batch)
            try await sendRetrying(output.records)
            // Effects that must follow delivery (hits counted, suggestions marked published) run
            // once, after the broker acknowledged; a failed batch never reaches here twice.
            await output.delivered()
            do {
                try await consumer.commit(after: batch)
            } catch {
                // Outputs are delivered; a redelivery after a rebalance repeats them (at-least-once).
                logger.notice("\(name): offset commit failed, outputs may repeat after a rebalance: \(error)")
            }
            inputs.increment(by: batch.count)
            outputs.increment(by: output.records.count)
            batchTimer.recordInterval(since: started)
        }
    }
}

extension TransformStage {
    /// Produces until the broker acknowledged every record: nothing is committed past output that
    /// was not delivered.
    func sendRetrying(_ records: [KafkaRecord]) async throws {
        try await retrying("producing \(records.count) record(s)") { _ = try await producer.sendAll(records) }
    }

    /// Retries a failing transform (e.g. the database is down) until it succeeds or shutdown.
    func transformRetrying(_ batch: [KafkaMessage]) async throws -> StageOutput {
        try await retrying("batch") { try await transform(batch) }
    }

    /// Runs `body` until it succeeds, waiting with backoff and reporting not-ready in between.
    func retrying<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var backoff = Backoff()
        var failing = false
        while true {
            do {
                let value = try await body()
                if failing { reportHealth(nil) }
                return value
            } catch {
                if consumer.isStopping || Task.isCancelled { throw error }
                failing = true
                logger.warning("\(name): \(what) failed, retrying in \(backoff.delay): \(error)")
                Counter(label: "baseline_stage_retries_total", dimensions: [("stage", name)]).increment()
                reportHealth("\(what) failing: \(error)")
                guard await backoff.wait() else { throw error }
            }
        }
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let d = ContinuousClock.now - start
        recordNanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }
}

/// What a stage produces for a batch, and what to do once the broker acknowledged it.
public struct StageOutput: Sendable {
    public var records: [KafkaRecord]
    public var delivered: @Sendable () async -> Void

    public init(records: [KafkaRecord], delivered: @escaping @Sendable () async -> Void = {}) {
        self.records = records
        self.delivered = delivered
    }
}
