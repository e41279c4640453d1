import BaselineCore
import BaselineKafka
import ServiceLifecycle

/// What a consuming stage does with its input. `ConsumingStage` does everything around it:
/// polling, dead letters, retries with backoff, isolating a message that fails, producing with
/// delivery confirmation, committing, fencing, readiness.
public protocol StageHandler: Sendable {
    /// What a message becomes once read.
    associatedtype Item: Sendable

    /// Reads one message: its item, or why it can never be handled. Rejected messages are
    /// dead-lettered (on `deadLetterTopic`) before anything of their batch happens.
    func decode(_ message: KafkaMessage) -> Result<Item, Rejection>

    /// Handles items of one batch (all of them, or one at a time while a failure is isolated).
    /// Effects that must last are durable when it returns (a database transaction, with `span`'s
    /// positions when the handler stores them itself). Returns the records that must be delivered
    /// before the batch is committed. Throwing means nothing happened; `classify` says what next.
    func handle(_ items: [(Item, KafkaMessage)], span: BatchSpan) async throws -> StageOutput

    /// What retrying can do about a failure of `handle` or `skip` (default: retry until it works).
    func classify(_ error: any Error) -> StageFailure
    /// A short description of a failure for logs, readiness and dead-letter reasons.
    func describe(_ error: any Error) -> String

    /// Where rejected messages go, and those that fail alone every time (nil: the input topic's
    /// own, `<topic>.dlq`).
    var deadLetterTopic: String? { get }
    /// The dead-letter code of a message that failed alone every time.
    var failureCode: String { get }

    /// Marks `span` done without handling it (its messages were dead-lettered), for a handler that
    /// stores its positions itself; an empty `first` skips the fencing check.
    func skip(_ span: BatchSpan) async throws
    /// Where partitions resume after a fenced batch: the handler's stored positions, checked
    /// against the log's `bounds` (partitions without one go back to the batch's start).
    func resumePositions(_ partitions: Set<KafkaTopicPartition>, bounds: any PartitionBounds) async throws
        -> [KafkaTopicPartition: Int64]
    /// Forgets what it holds about partitions this member may no longer own (caches).
    func fenced()

    /// Runs once before the first poll (e.g. draining an outbox).
    func started() async
    /// Work that runs beside the consuming loop and ends with it (outbox relays).
    var companions: [any Service] { get }
}

/// How the skeleton treats a failure of a handler's work.
public enum StageFailure: String, Sendable {
    /// Retried after a backoff for as long as it takes (database or broker down).
    case transient
    /// The input is the problem (a value the database refuses): the batch is handled one message
    /// at a time and the one that fails is dead-lettered.
    case deterministic
    /// Neither clearly: retried five times, then treated as deterministic when another message of
    /// the batch succeeded (evidence the dependency works), else retried until it succeeds.
    case unknown
    /// Another member owns a partition of the batch now: nothing of it is kept, positions go back.
    case fenced
}

extension StageHandler {
    public func classify(_ error: any Error) -> StageFailure { .transient }
    public func describe(_ error: any Error) -> String { String(describing: error) }
    public var deadLetterTopic: String? { nil }
    public var failureCode: String { "processing_failed" }
    public func skip(_ span: BatchSpan) async throws {}
    public func resumePositions(_ partitions: Set<KafkaTopicPartition>, bounds: any PartitionBounds) async throws
        -> [KafkaTopicPartition: Int64] { [:] }
    public func fenced() {}
    public func started() async {}
    public var companions: [any Service] { [] }
}
