import BaselineCore
import BaselineKafka

extension ConsumingStage {
    /// Handles a batch that failed deterministically one message at a time, so the one that fails
    /// every time is dead-lettered with its reason, its position marked done, and the partition
    /// moves on.
    func isolate(_ items: [(Handler.Item, KafkaMessage)], batch: BatchSpan) async throws -> StageOutput {
        var outputs: [StageOutput] = []
        for item in items {
            let one = BatchSpan([item.1])
            do {
                do {
                    outputs.append(try await handleRetrying([item], span: one))
                    continue
                } catch let failure as DeterministicFailure where failure.kind == .unknown && outputs.isEmpty {
                    // An unexplained failure while nothing else worked either looks like the
                    // dependency, not this message: keep retrying (not ready) rather than
                    // dead-letter good input.
                    logger.warning("\(name): failing without evidence against this message; retrying it: \(failure.reason)")
                    outputs.append(try await handleRetrying([item], span: one, giveUpOnUnknown: false))
                    continue
                }
            } catch let failure as DeterministicFailure {
                metrics.deadLettered.increment()
                let message = item.1
                logger.error("\(name): message dead-lettered", metadata: [
                    "source": "\(message.topic)/\(message.partition)/\(message.offset)", "reason": "\(failure.reason)",
                ])
                try await deliver([deadLetter(message, Rejection(handler.failureCode, failure.reason))], "dead letter")
                try await retrying("offsets", fencedOnly: true) { try await handler.skip(one) }
            }
        }
        // Positions of messages that never reached the handler (rejected when read, already dead-lettered).
        try await retrying("offsets", fencedOnly: true) { try await handler.skip(BatchSpan(next: batch.next, first: [:])) }
        return StageOutput.combined(outputs)
    }
}
