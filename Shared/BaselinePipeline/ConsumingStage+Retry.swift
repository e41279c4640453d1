import BaselineKafka
import BaselinePostgres
import ServiceLifecycle

/// A failure retrying cannot fix: the batch is handled one message at a time.
struct DeterministicFailure: Error {
    let reason: String
    var kind: StageFailure = .deterministic
}

/// A record of the handler's output the producer or the broker refuses for what it is
/// (`KafkaError.refusesRecord`): the batch is handled and delivered one message at a time.
struct RecordRefused: Error, CustomStringConvertible {
    let underlying: KafkaError
    var description: String { underlying.description }
}

/// The handler found a partition of the batch owned by another member now.
struct StageFenced: Error, CustomStringConvertible {
    let underlying: any Error
    var description: String { String(describing: underlying) }
}

extension ConsumingStage {
    /// Handles items until it works, a failure is deterministic (thrown as `DeterministicFailure`),
    /// or the batch is fenced (`StageFenced`).
    func handleRetrying(_ items: [(Handler.Item, KafkaMessage)], span: BatchSpan, giveUpOnUnknown: Bool = true) async throws
        -> StageOutput {
        try await retrying("batch", giveUpOnUnknown: giveUpOnUnknown) { try await handler.handle(items, span: span) }
    }

    /// Runs `body` until it succeeds: transient failures wait (200 ms doubling to 30 s, ±25 %
    /// jitter) while the stage says why it is not ready; deterministic ones, or unknown ones after
    /// five attempts, are rethrown as `DeterministicFailure`; fencing as `StageFenced`. Without
    /// `classify`, every failure counts as transient (sends to the broker, seeks). With
    /// `fencedOnly`, fencing is still rethrown but every other failure is retried (writes of
    /// positions: no message is to blame, giving up would stop the service).
    func retrying<T>(_ what: String, classify: Bool = true, fencedOnly: Bool = false, giveUpOnUnknown: Bool = true,
                     _ body: () async throws -> T) async throws -> T {
        var backoff = Backoff()
        var attempt = 0
        while true {
            do {
                let value = try await body()
                if attempt > 0 { clearProblem() }
                return value
            } catch let refused as RecordRefused {
                throw refused
            } catch {
                let kind = classify ? handler.classify(error) : .transient
                if kind == .fenced { throw StageFenced(underlying: error) }
                attempt += 1
                let reason = handler.describe(error)
                let givesUp = kind == .deterministic || (kind == .unknown && giveUpOnUnknown && attempt >= 5)
                if givesUp && !fencedOnly { throw DeterministicFailure(reason: reason, kind: kind) }
                if consumer.isStopping || Task.isCancelled || Task.isShuttingDownGracefully { throw error }
                metrics.retries.increment()
                if DatabaseFailure.isStatementTimeout(error) {
                    CounterCache.shared.increment("baseline_db_statement_timeouts_total", [("stage", name)])
                }
                reportProblem("\(what) failing (attempt \(attempt)): \(reason)")
                logger.warning("\(name): \(what) failed (\(kind.rawValue), attempt \(attempt)), retrying in \(backoff.delay): \(reason)")
                guard await backoff.wait() else { throw error }
            }
        }
    }
}
