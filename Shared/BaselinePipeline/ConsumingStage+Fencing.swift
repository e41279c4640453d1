import BaselineKafka
import Synchronization

extension ConsumingStage {
    /// Another member owns a partition of this batch now: drop what the handler holds and move
    /// the partitions this member still has back to their stored positions (nothing was written).
    /// The stored positions are checked against the log first (the handler applies the
    /// out-of-range policy: a stored offset past a re-created log's end is reset, not sought to,
    /// since librdkafka would reset it to the start and fence again). Never throws but on
    /// shutdown: a failed seek or read of positions is retried, it is no reason to stop.
    func fence(_ fenced: StageFenced, batch: [KafkaMessage]) async throws {
        metrics.fenced.increment()
        logger.warning("\(name): \(fenced)")
        // Whatever this batch was failing on is no longer this member's to fix (another owns the
        // partition now): a problem left reported would keep /readyz not-ready with no batch to
        // clear it. A loop of fences reports again below.
        clearProblem()
        handler.fenced()
        let assigned = consumer.assignment
        let partitions = Set(batch.map(\.topicPartition)).filter(assigned.contains)
        let stored = try await retrying("offsets", classify: false) {
            try await handler.resumePositions(partitions, bounds: consumer)
        }
        // Every still-assigned partition goes back: to its stored position, else to this batch's start.
        var positions = BatchSpan(batch).first.filter { partitions.contains($0.key) }
        for (partition, offset) in stored where partitions.contains(partition) { positions[partition] = offset }
        if !positions.isEmpty { try await retrying("seek", classify: false) { try await consumer.seek(positions) } }
        await backOffWhenFencedRepeatedly(at: positions)
    }

    /// The same partition fenced again and again at the same stored offset is not another member
    /// moving on (that would move the stored offset): it is a loop (positions that never fit
    /// the log). It is reported on readiness and slowed down instead of spinning silently.
    func backOffWhenFencedRepeatedly(at positions: [KafkaTopicPartition: Int64]) async {
        let repeated = repeatedFences.withLock { counts -> [(KafkaTopicPartition, Int64, Int)] in
            var repeated: [(KafkaTopicPartition, Int64, Int)] = []
            for (partition, offset) in positions {
                let count = counts[partition]?.offset == offset ? (counts[partition]?.count ?? 0) + 1 : 1
                counts[partition] = (offset, count)
                if count >= Self.repeatedFenceLimit { repeated.append((partition, offset, count)) }
            }
            return repeated
        }
        guard let worst = repeated.max(by: { $0.2 < $1.2 }) else { return }
        let problem = "\(worst.0.topic)[\(worst.0.partition)] fenced \(worst.2) times in a row at stored offset \(worst.1)"
            + " (a stored offset that does not fit the log, or a member that keeps writing past it)"
        reportProblem(problem)
        logger.error("\(name): \(problem); backing off")
        var backoff = fenceBackoff.withLock { $0 }
        _ = await backoff.wait()
        fenceBackoff.withLock { $0 = backoff }
    }

    /// A batch of these partitions went through: their fencing loops are over (a loop on another
    /// partition is not: progress elsewhere must not hide it).
    func clearRepeatedFences(_ partitions: Set<KafkaTopicPartition>) {
        let none = repeatedFences.withLock { counts -> Bool in
            for p in partitions { counts[p] = nil }
            return counts.isEmpty
        }
        if none { fenceBackoff.withLock { $0 = Backoff() } }
    }
}
