import BaselineCore
import BaselineKafka
import BaselineWire
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The one consuming loop of every stage: poll a batch → read each message (dead-letter what
/// cannot be read) → let the handler apply it (retried with backoff while a dependency is down;
/// one message at a time when the batch fails deterministically, the message that fails alone
/// dead-lettered) → produce its records until the broker acknowledged them → run what follows
/// delivery → commit the offsets. Nothing is committed past work that is not durable: an input
/// offset is committed only after its outputs were acknowledged and the handler's effects (with
/// the positions it stores itself) were written. A batch the handler finds fenced (another member
/// owns a partition now) is dropped and its partitions go back to the stored positions. While it
/// retries, the stage reports why on readiness.
public final class ConsumingStage<Handler: StageHandler>: Service, @unchecked Sendable {
    public let name: String
    public let handler: Handler
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let maxBatch: Int
    let logger: Logger
    let onStart: @Sendable () -> Void
    /// nil: healthy; else why the stage cannot make progress now (for /readyz).
    public var reportHealth: @Sendable (String?) -> Void
    /// A problem was reported and not cleared yet.
    let reportedProblem = Mutex(false)
    let metrics: StageMetrics
    /// Per partition: the stored offset of the last fences in a row, and how many.
    let repeatedFences = Mutex<[KafkaTopicPartition: (offset: Int64, count: Int)]>([:])
    /// Grows while fences repeat (see `backOffWhenFencedRepeatedly`).
    let fenceBackoff = Mutex(Backoff())
    /// Fences in a row at the same stored offset before the stage reports a loop and backs off.
    static var repeatedFenceLimit: Int { 3 }

    public init(name: String, handler: Handler, consumer: KafkaConsumer, producer: KafkaProducer, maxBatch: Int = 500,
                logger: Logger, onStart: @escaping @Sendable () -> Void = {},
                reportHealth: @escaping @Sendable (String?) -> Void = { _ in }) {
        self.name = name
        self.handler = handler
        self.consumer = consumer
        self.producer = producer
        self.maxBatch = maxBatch
        self.logger = logger
        self.onStart = onStart
        self.reportHealth = reportHealth
        metrics = StageMetrics(stage: name)
    }

    public func run() async throws {
        onStart()
        await handler.started()
        let companions = handler.companions
        try await withThrowingTaskGroup(of: Void.self) { group in
            for companion in companions { group.addTask { try await companion.run() } }
            defer { group.cancelAll() }
            try await consumer.runUntilShutdown(maxMessages: maxBatch, logger: logger) { try await process($0) }
        }
    }

    /// One batch, from reading to commit.
    public func process(_ batch: [KafkaMessage]) async throws {
        let started = ContinuousClock.now
        var items: [(Handler.Item, KafkaMessage)] = []
        var rejected: [KafkaRecord] = []
        for message in batch {
            switch handler.decode(message) {
            case .success(let item): items.append((item, message))
            case .failure(let rejection):
                metrics.rejected.increment()
                rejected.append(deadLetter(message, rejection))
            }
        }
        // Dead letters first: once the handler stores the batch's positions they would never be retried.
        try await deliverDeadLetters(rejected)
        let span = BatchSpan(batch)
        var output: StageOutput
        do {
            do {
                output = try await handleRetrying(items, span: span)
            } catch let failure as DeterministicFailure {
                logger.warning("\(name): batch failed deterministically, handling its \(items.count) messages one by one: \(failure.reason)")
                output = try await isolate(items, batch: span)
            }
            do {
                try await deliver(output.records, "producing \(output.records.count) record(s)", refusalIsFinal: true)
            } catch let refused as RecordRefused {
                // One message's output can never be produced (too large for the broker): find it,
                // dead-letter it, deliver the rest. Records already sent go again (at-least-once).
                logger.warning("\(name): a record of the batch is refused, handling its \(items.count) messages one by one: \(refused)")
                output = try await isolate(items, batch: span)
            }
        } catch let fenced as StageFenced {
            try await fence(fenced, batch: batch)
            return
        }
        // Effects that must follow delivery (hits counted, suggestions marked published) run once,
        // after the broker acknowledged; a failed batch never reaches here twice.
        await output.delivered()
        clearProblem()
        clearRepeatedFences(Set(batch.map(\.topicPartition)))
        do {
            try await consumer.commit(after: batch)
        } catch {
            // Outputs are delivered and effects durable: a redelivery after a rebalance repeats them
            // (at-least-once), or a handler that stores its positions resumes from those.
            logger.notice("\(name): Kafka offset commit failed: \(error)")
        }
        metrics.inputs.increment(by: batch.count)
        metrics.outputs.increment(by: rejected.count + output.records.count)
        metrics.batch.recordInterval(since: started)
    }

    /// Produces until the broker acknowledged every record (retried: a broker that is down is no
    /// problem of the input). With `refusalIsFinal`, a record refused for what it is (too large,
    /// invalid) throws `RecordRefused` instead: retrying could never deliver it.
    func deliver(_ records: [KafkaRecord], _ what: String, refusalIsFinal: Bool = false) async throws {
        guard !records.isEmpty else { return }
        try await retrying(what, classify: false) {
            do {
                _ = try await producer.sendAll(records)
            } catch let error as KafkaError where refusalIsFinal && error.refusesRecord {
                throw RecordRefused(underlying: error)
            }
        }
    }

    /// Delivers dead letters. One the producer or broker refuses (a `message.max.bytes` below the
    /// dead letter's 900 000 bytes) goes again without the original's value, key and headers (its
    /// headers say where the original is, and `baseline-original-bytes` how large it was), so a
    /// dead letter can never stall its partition.
    func deliverDeadLetters(_ records: [KafkaRecord]) async throws {
        do {
            try await deliver(records, "dead letters", refusalIsFinal: true)
        } catch is RecordRefused {
            for record in records {
                do {
                    try await deliver([record], "dead letter", refusalIsFinal: true)
                } catch let refused as RecordRefused {
                    logger.warning("\(name): dead letter refused (\(refused)); sending it without the original")
                    try await deliver([DeadLetter.bare(record)], "dead letter without the original")
                }
            }
        }
    }

    /// The dead letter of `message`: on the handler's topic, else the input topic's own.
    func deadLetter(_ message: KafkaMessage, _ rejection: Rejection) -> KafkaRecord {
        DeadLetter.record(for: message, to: handler.deadLetterTopic ?? Topics.deadLetters(of: message.topic), rejection: rejection)
    }

    func reportProblem(_ problem: String) {
        reportedProblem.withLock { $0 = true }
        reportHealth(problem)
    }

    func clearProblem() {
        let wasReported = reportedProblem.withLock { reported in
            defer { reported = false }
            return reported
        }
        if wasReported { reportHealth(nil) }
    }
}

/// A stage's counters, by stage name.
struct StageMetrics {
    let inputs, outputs, retries, rejected, deadLettered, fenced: Counter
    let batch: Timer

    init(stage: String) {
        let d = [("stage", stage)]
        inputs = Counter(label: "baseline_stage_inputs_total", dimensions: d)
        outputs = Counter(label: "baseline_stage_outputs_total", dimensions: d)
        retries = Counter(label: "baseline_stage_retries_total", dimensions: d)
        rejected = Counter(label: "baseline_stage_rejected_total", dimensions: d)
        deadLettered = Counter(label: "baseline_stage_dead_lettered_total", dimensions: d)
        fenced = Counter(label: "baseline_stage_batches_fenced_total", dimensions: d)
        batch = Timer(label: "baseline_stage_batch_seconds", dimensions: d, preferredDisplayUnit: .seconds)
    }
}
