import Foundation

/// One record's claim on its batch; retained by librdkafka (message opaque) until its delivery report.
final class DeliveryTicket {
    let batch: DeliveryBatch
    let index: Int
    init(batch: DeliveryBatch, index: Int) {
        self.batch = batch
        self.index = index
    }
    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) { batch.complete(index: index, result) }
}

/// Collects the delivery reports of one `sendAll` / `sendEach`. Reports may arrive before anyone
/// awaits the results (they come from the poll thread while records are still being enqueued).
final class DeliveryBatch: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<KafkaDeliveryReport, KafkaError>?]
    private var remaining: Int
    private var continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>?

    init(count: Int) {
        results = Array(repeating: nil, count: count)
        remaining = count
    }

    func complete(index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let resume: (CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>, [Result<KafkaDeliveryReport, KafkaError>])? = lock.withLock {
            // A record completes once (a late report after a purge cannot count twice).
            guard results[index] == nil else { return nil }
            results[index] = result
            remaining -= 1
            guard remaining == 0, let c = continuation else { return nil }
            continuation = nil
            return (c, results.map { $0! })
        }
        if let (c, r) = resume { c.resume(returning: r) }
    }

    /// Waits until every record has its report: one result per record, in order.
    func results() async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await withCheckedContinuation { c in
            let ready: [Result<KafkaDeliveryReport, KafkaError>]? = lock.withLock {
                if remaining == 0 { return results.map { $0! } }
                continuation = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Waits until every record has its report; throws the first delivery error.
    func result() async throws -> [KafkaDeliveryReport] {
        try await results().map { try $0.get() }
    }
}
