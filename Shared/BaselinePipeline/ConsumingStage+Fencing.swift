import BaselineKafka

extension ConsumingStage {
    /// Another member owns a partition of this batch now: drop what the handler holds and move
    /// the partitions this member still has back to their stored positions (nothing was written).
    func fence(_ fenced: StageFenced, batch: [KafkaMessage]) async throws {
        metrics.fenced.increment()
        logger.warning("\(name): \(fenced)")
        handler.fenced()
        let assigned = consumer.assignment
        let partitions = Set(batch.map(\.topicPartition)).filter(assigned.contains)
        let stored = try await retrying("offsets") { try await handler.resumePositions(partitions) }
        // Every still-assigned partition goes back: to its stored position, else to this batch's start.
        var positions = BatchSpan(batch).first.filter { partitions.contains($0.key) }
        for (partition, offset) in stored where partitions.contains(partition) { positions[partition] = offset }
        if !positions.isEmpty { try await consumer.seek(positions) }
    }
}
