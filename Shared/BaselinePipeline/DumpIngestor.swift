import BaselineCore
import BaselineKafka
import BaselineWire
import Foundation
import Logging

/// dump-consumer's logic: each `activity-dumps` message becomes either one normalised merge
/// request on `profile-merge-requests` (keyed by profile, so one partition owns a profile) or
/// one dead letter on `activity-dumps.dlq`. Inputs = outputs + rejections, always.
public struct DumpIngestor: Sendable {
    let decoder: DumpDecoder
    let times: EventTimePolicy
    let storage: StorageLimits
    let outputTopic: String
    let logger: Logger

    public init(decoder: DumpDecoder = DumpDecoder(), times: EventTimePolicy = EventTimePolicy(), storage: StorageLimits = StorageLimits(),
                outputTopic: String = Topics.profileMergeRequests, logger: Logger) {
        self.decoder = decoder
        self.times = times
        self.storage = storage
        self.outputTopic = outputTopic
        self.logger = logger
    }

    public func transform(_ batch: [KafkaMessage]) -> [KafkaRecord] {
        batch.map(transform)
    }

    public func transform(_ message: KafkaMessage) -> KafkaRecord {
        let now = Timestamps.nanoseconds(Date()) ?? 0
        // A record time that does not fit nanoseconds (or lies in the future) is not trusted either.
        let recordTime = message.timestamp.flatMap { ms -> Int64? in
            let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
            // Older than the policy allows behind (a producer may set any CreateTime): the record
            // cannot date a dump before a profile turned stable; the consumer's clock does.
            return overflow || ns <= 0 || ns > now.saturatingAdding(times.maxAhead) || ns < now.saturatingSubtracting(times.maxBehind) ? nil : ns
        } ?? now
        do {
            // activity-dumps carries dumps only: a record that says it is something else (a clock
            // tick aimed at the merge topic, a kind of a newer version) is not read as a dump.
            if let kind = message.headers.first(where: { $0.name == WireHeaders.kind }) {
                throw Rejection("unknown_kind", "\(WireHeaders.kind) '\((kind.stringValue ?? "<not UTF-8>").prefix(100))' on \(message.topic), "
                                + "which carries activity dumps only (no \(WireHeaders.kind) header)")
            }
            var request = try decoder.decode(message.value, contentType: message.header(WireHeaders.contentType)?.stringValue,
                                             receivedAt: recordTime)
            let (dump, clamped) = times.apply(to: request.dump, recordTime: recordTime)
            if clamped {
                request.dump = dump
                CounterCache.shared.increment("baseline_dump_times_clamped_total", [])
                logger.notice("dump event times implausible against the record time: clamped", metadata: [
                    "dump_id": "\(request.dumpID)", "source": "\(message.topic)/\(message.partition)/\(message.offset)",
                ])
            }
            try storage.check(request)
            let value = try WireCatalog.mergeRequests.encode(request)
            try storage.check(outputBytes: value.count)
            CounterCache.shared.increment("baseline_dumps_accepted_total", [("format", request.sourceFormat)])
            // The input's own headers travel along (tracing), with the dump id and the new content type.
            // Headers this pipeline gives meaning to are set here, never passed through from outside.
            var headers = DeadLetter.passedThrough(message.headers.filter { !$0.name.hasPrefix("baseline-") && $0.name != WireHeaders.contentType })
            headers.append(KafkaHeader(WireHeaders.dumpID, request.dumpID))
            headers.append(KafkaHeader(WireHeaders.contentType, "application/json"))
            let record = KafkaRecord(topic: outputTopic, key: WireCatalog.mergeRequests.key(for: request), value: value, headers: headers)
            // The whole record must fit, headers and key included (librdkafka counts them).
            try storage.check(outputBytes: record.wireBytes)
            return record
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
