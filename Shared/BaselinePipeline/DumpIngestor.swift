import BaselineCore
import BaselineKafka
import Foundation
import Logging

/// dump-consumer's logic: each `activity-dumps` message becomes either one normalised merge
/// request on `profile-merge-requests` (keyed by profile, so one partition owns a profile) or
/// one dead letter on `activity-dumps.dlq`. Inputs = outputs + rejections, always.
public struct DumpIngestor: Sendable {
    public static let contentTypeHeader = "content-type"
    public static let dumpIDHeader = "baseline-dump-id"

    let decoder: DumpDecoder
    let logger: Logger

    public init(decoder: DumpDecoder = DumpDecoder(), logger: Logger) {
        self.decoder = decoder
        self.logger = logger
    }

    public func transform(_ batch: [KafkaMessage]) -> [KafkaRecord] {
        batch.map(transform)
    }

    public func transform(_ message: KafkaMessage) -> KafkaRecord {
        let receivedAt = message.timestamp.map { $0 * 1_000_000 } ?? Int64(Date().timeIntervalSince1970 * 1e9)
        do {
            let request = try decoder.decode(message.value, contentType: message.header(Self.contentTypeHeader)?.stringValue,
                                             receivedAt: receivedAt)
            let value = try JSONEncoder().encode(request)
            CounterCache.shared.increment("baseline_dumps_accepted_total", [("format", request.sourceFormat)])
            // The input's own headers travel along (tracing), with the dump id and the new content type.
            var headers = message.headers.filter { $0.name != Self.contentTypeHeader && $0.name != Self.dumpIDHeader }
            headers.append(KafkaHeader(Self.dumpIDHeader, request.dumpID))
            headers.append(KafkaHeader(Self.contentTypeHeader, "application/json"))
            return KafkaRecord(topic: Topics.profileMergeRequests, key: request.profileKey, value: Array(value), headers: headers)
        } catch let rejection as Rejection {
            return reject(message, rejection)
        } catch {
            return reject(message, Rejection("internal_error", "\(error)"))
        }
    }

    private func reject(_ message: KafkaMessage, _ rejection: Rejection) -> KafkaRecord {
        CounterCache.shared.increment("baseline_dumps_rejected_total", [("reason", rejection.code)])
        logger.notice("dump rejected", metadata: [
            "code": "\(rejection.code)", "reason": "\(rejection.reason)",
            "source": "\(message.topic)/\(message.partition)/\(message.offset)",
        ])
        return DeadLetter.record(for: message, to: Topics.activityDumpsDLQ, rejection: rejection)
    }
}
