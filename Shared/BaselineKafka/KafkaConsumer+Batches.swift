extension KafkaConsumer {
    /// Batches of up to `maxMessages`, waiting at most `maxWaitMs` for the first message of a
    /// batch. Empty batches are not yielded. Ends after `requestStop()`, `close()` or task
    /// cancellation.
    public func batches(maxMessages: Int = 500, maxWaitMs: Int32 = 100) -> Batches {
        Batches(consumer: self, maxMessages: maxMessages, maxWaitMs: maxWaitMs)
    }

    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = [KafkaMessage]
        let consumer: KafkaConsumer
        let maxMessages: Int
        let maxWaitMs: Int32

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            let maxMessages: Int
            let maxWaitMs: Int32

            public mutating func next() async throws -> [KafkaMessage]? {
                while !consumer.isStopping && !Task.isCancelled {
                    let batch: [KafkaMessage]
                    do {
                        batch = try await consumer.poll(maxMessages: maxMessages, maxWaitMs: maxWaitMs)
                    } catch let error as KafkaError where error.isClosed && consumer.isStopping {
                        return nil  // closed while this poll waited for its turn: a normal end
                    }
                    if !batch.isEmpty { return batch }
                }
                return nil
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: consumer, maxMessages: maxMessages, maxWaitMs: maxWaitMs)
        }
    }
}
