import BaselineCore
import BaselineKafka

extension ConsumingStage {
    /// Handles a batch that failed deterministically (or whose output the broker refused) one
    /// message at a time, delivering each message's records before the next: the one whose handling
    /// fails every time, or whose record the producer or broker refuses (`output_rejected`), is
    /// dead-lettered with its reason, its position marked done, and the partition moves on.
    /// Returns what must follow delivery for the messages that made it (their records are sent).
    func isolate(_ items: [(Handler.Item, KafkaMessage)], batch: BatchSpan) async throws -> StageOutput {
        var outputs: [StageOutput] = []
        for item in items {
            let one = BatchSpan([item.1])
            var failure: (code: String, reason: String)?
            do {
                let output: StageOutput
                do {
                    output = try await handleRetrying([item], span: one)
                } catch let failure as DeterministicFailure where failure.kind == .unknown && outputs.isEmpty {
                    // An unexplained failure while nothing else worked either looks like the
                    // dependency, not this message: keep retrying (not ready) rather than
                    // dead-letter good input.
                    logger.warning("\(name): failing without evidence against this message; retrying it: \(failure.reason)")
                    output = try await handleRetrying([item], span: one, giveUpOnUnknown: false)
                }
                do {
                    try await deliver(output.records, "producing \(output.records.count) record(s)", refusalIsFinal: true)
                    outputs.append(StageOutput(delivered: output.delivered))
                } catch let refused as RecordRefused {
                    failure = ("output_rejected", "an output record is refused: \(refused)")
                }
            } catch let deterministic as DeterministicFailure {
                failure = (handler.failureCode, deterministic.reason)
            }
            guard let failure else { continue }
            metrics.deadLettered.increment()
            let message = item.1
            logger.error("\(name): message dead-lettered", metadata: [
                "source": "\(message.topic)/\(message.partition)/\(message.offset)", "code": "\(failure.code)",
                "reason": "\(failure.reason)",
            ])
            try await deliverDeadLetters([deadLetter(message, Rejection(failure.code, failure.reason))])
            try await retrying("offsets", fencedOnly: true) { try await handler.skip(one) }
        }
        // Positions of messages that never reached the handler (rejected when read, already dead-lettered).
        try await retrying("offsets", fencedOnly: true) { try await handler.skip(BatchSpan(next: batch.next, first: [:])) }
        return StageOutput.combined(outputs)
    }
}
