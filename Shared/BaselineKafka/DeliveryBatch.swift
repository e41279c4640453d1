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

/// Collects the delivery reports of one `sendAll`. Reports may arrive before anyone awaits
/// `result()` (they come from the poll thread while records are still being enqueued).
final class DeliveryBatch: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [KafkaDeliveryReport?]
    private var remaining: Int
    private var firstError: KafkaError?
    private var continuation: CheckedContinuation<[KafkaDeliveryReport], any Error>?

    init(count: Int) {
        reports = Array(repeating: nil, count: count)
        remaining = count
    }

    func complete(index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let resume: (CheckedContinuation<[KafkaDeliveryReport], any Error>, Result<[KafkaDeliveryReport], any Error>)? = lock.withLock {
            switch result {
            case .success(let r): reports[index] = r
            case .failure(let e): if firstError == nil { firstError = e }
            }
            remaining -= 1
            guard remaining == 0, let c = continuation else { return nil }
            continuation = nil
            return (c, outcome())
        }
        if let (c, r) = resume { c.resume(with: r) }
    }

    /// Waits until every record has its report; throws the first delivery error.
    func result() async throws -> [KafkaDeliveryReport] {
        try await withCheckedThrowingContinuation { c in
            let ready: Result<[KafkaDeliveryReport], any Error>? = lock.withLock {
                if remaining == 0 { return outcome() }
                continuation = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }

    private func outcome() -> Result<[KafkaDeliveryReport], any Error> {
        if let firstError { return .failure(firstError) }
        return .success(reports.map { $0! })
    }
}
