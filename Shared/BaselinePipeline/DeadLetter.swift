import BaselineKafka
import BaselineCore
import Foundation


/// Builds dead-letter records: the original bytes, key and headers unchanged, plus headers that
/// say why and where it came from.
public enum DeadLetter {
    public static let codeHeader = "baseline-error-code"
    public static let reasonHeader = "baseline-error-reason"
    public static let sourceTopicHeader = "baseline-source-topic"
    public static let sourcePartitionHeader = "baseline-source-partition"
    public static let sourceOffsetHeader = "baseline-source-offset"
    public static let failedAtHeader = "baseline-failed-at"
    public static let truncatedHeader = "baseline-original-bytes"
    /// A dead letter must fit a Kafka message: larger originals keep their first bytes (the whole
    /// original stays in the source topic at the offset the headers name, until its retention).
    public static let maxValueBytes = 900_000

    public static func record(for message: KafkaMessage, to topic: String, rejection: Rejection,
                              now: Date = Date(), maxValueBytes: Int = maxValueBytes) -> KafkaRecord {
        var headers = message.headers
        headers.append(KafkaHeader(codeHeader, rejection.code))
        headers.append(KafkaHeader(reasonHeader, String(rejection.reason.prefix(2000))))
        headers.append(KafkaHeader(sourceTopicHeader, message.topic))
        headers.append(KafkaHeader(sourcePartitionHeader, String(message.partition)))
        headers.append(KafkaHeader(sourceOffsetHeader, String(message.offset)))
        headers.append(KafkaHeader(failedAtHeader, ISO8601DateFormatter().string(from: now)))
        guard message.value.count > maxValueBytes else {
            return KafkaRecord(topic: topic, key: message.key, value: message.value, headers: headers)
        }
        headers.append(KafkaHeader(truncatedHeader, String(message.value.count)))
        return KafkaRecord(topic: topic, key: message.key, value: Array(message.value.prefix(maxValueBytes)), headers: headers)
    }
}
