import Logging
import ServiceLifecycle

extension KafkaConsumer {
    /// The loop every consuming service runs: hand each batch to `body` until graceful shutdown
    /// (the batch in flight finishes first), then leave the group. On an error the consumer is
    /// closed too and the error rethrown; offsets are whatever `body` committed.
    public func runUntilShutdown(maxMessages: Int, logger: Logger,
                                 _ body: ([KafkaMessage]) async throws -> Void) async throws {
        do {
            try await withGracefulShutdownHandler {
                for try await batch in batches(maxMessages: maxMessages) {
                    try await body(batch)
                }
            } onGracefulShutdown: { [self] in
                requestStop()
            }
        } catch {
            logger.error("consumer \(groupID) stopped on error: \(error)")
            await close()
            throw error
        }
        logger.info("consumer \(groupID) draining: last batch done, leaving the group")
        await close()
    }
}
