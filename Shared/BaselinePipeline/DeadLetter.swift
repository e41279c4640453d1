import BaselineCore
import BaselineKafka
import BaselineWire
import Foundation

/// Builds dead-letter records: the original bytes, key and headers unchanged, plus headers that
/// say why and where it came from.
public enum DeadLetter {
    /// A dead letter must fit a Kafka message: larger originals keep their first bytes (the whole
    /// original stays in the source topic at the offset the headers name, until its retention).
    public static let maxValueBytes = 900_000
    /// Keys longer than this keep their first bytes (a header gives the original's size).
    public static let maxKeyBytes = 4_096

    public static func record(for message: KafkaMessage, to topic: String, rejection: Rejection,
                              now: Date = Date(), maxValueBytes: Int = maxValueBytes) -> KafkaRecord {
        // Headers this pipeline gives meaning to are never taken from outside (a forged
        // `baseline-source-offset` would stand before ours), and originals too large to carry are
        // dropped, counted: the whole record must fit a message, headers included.
        var headers = message.headers.filter { !$0.name.hasPrefix("baseline-") }
        if KafkaHeader.wireBytes(headers) > maxOriginalHeaderBytes {
            headers = [KafkaHeader(WireHeaders.originalHeadersDropped, String(message.headers.count))]
        }
        headers.append(KafkaHeader(WireHeaders.errorCode, rejection.code))
        headers.append(KafkaHeader(WireHeaders.errorReason, rejection.reason.prefix(bytes: 2000)))
        headers.append(KafkaHeader(WireHeaders.sourceTopic, message.topic))
        headers.append(KafkaHeader(WireHeaders.sourcePartition, String(message.partition)))
        headers.append(KafkaHeader(WireHeaders.sourceOffset, String(message.offset)))
        headers.append(KafkaHeader(WireHeaders.failedAt, ISO8601DateFormatter().string(from: now)))
        // A key is cut like a value: kept whole, a key of a megabyte (refused at the edge as too
        // long) would make its dead letter too large too, and the batch fall back to one-by-one.
        var key = message.key
        if let k = key, k.count > maxKeyBytes {
            headers.append(KafkaHeader(WireHeaders.originalKeyBytes, String(k.count)))
            key = Array(k.prefix(maxKeyBytes))
        }
        let room = max(0, maxValueBytes - (key?.count ?? 0))
        guard message.value.count > room else {
            return KafkaRecord(topic: topic, key: key, value: message.value, headers: headers)
        }
        headers.append(KafkaHeader(WireHeaders.originalBytes, String(message.value.count)))
        return KafkaRecord(topic: topic, key: key, value: Array(message.value.prefix(room)), headers: headers)
    }

    /// A dead letter without the original's value, key and headers: only Baseline's headers (why,
    /// where from) and the original's size, for when the full one is refused by the producer or
    /// the broker.
    public static func bare(_ deadLetter: KafkaRecord) -> KafkaRecord {
        var headers = deadLetter.headers.filter { $0.name.hasPrefix("baseline-") && $0.name != WireHeaders.originalBytes }
        let original = deadLetter.headers.last { $0.name == WireHeaders.originalBytes }?.stringValue ?? String(deadLetter.value.count)
        headers.append(KafkaHeader(WireHeaders.originalBytes, original))
        return KafkaRecord(topic: deadLetter.topic, key: nil, value: [], headers: headers)
    }

    /// Original headers larger than this are not carried into a dead letter (or an output).
    public static let maxOriginalHeaderBytes = 64 * 1024

    /// The input's headers to pass along with an output: none when they would not fit beside it.
    public static func passedThrough(_ headers: [KafkaHeader]) -> [KafkaHeader] {
        KafkaHeader.wireBytes(headers) > maxOriginalHeaderBytes ? [] : headers
    }
}
