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

    public static func record(for message: KafkaMessage, to topic: String, rejection: Rejection,
                              now: Date = Date(), maxValueBytes: Int = maxValueBytes) -> KafkaRecord {
        var headers = message.headers
        headers.append(KafkaHeader(WireHeaders.errorCode, rejection.code))
        headers.append(KafkaHeader(WireHeaders.errorReason, String(rejection.reason.prefix(2000))))
        headers.append(KafkaHeader(WireHeaders.sourceTopic, message.topic))
        headers.append(KafkaHeader(WireHeaders.sourcePartition, String(message.partition)))
        headers.append(KafkaHeader(WireHeaders.sourceOffset, String(message.offset)))
        headers.append(KafkaHeader(WireHeaders.failedAt, ISO8601DateFormatter().string(from: now)))
        guard message.value.count > maxValueBytes else {
            return KafkaRecord(topic: topic, key: message.key, value: message.value, headers: headers)
        }
        headers.append(KafkaHeader(WireHeaders.originalBytes, String(message.value.count)))
        return KafkaRecord(topic: topic, key: message.key, value: Array(message.value.prefix(maxValueBytes)), headers: headers)
    }
}
