import BaselineCore
import BaselineKafka
import BaselinePipeline
import Foundation
import Testing

/// Attack shape: a producer may set any CreateTime. A record dated long ago must not date a dump
/// before a profile turned stable (where it would be learned rather than flagged).
@Test func aRecordTimeFromLongAgoIsNotTrusted() throws {
    let ingestor = DumpIngestor(logger: TestStack.logger)
    let dump = #"{"schema":"baseline.activity-dump/v1","id":"old-1","workload":{"image_name":"app","container_id":"c1"},"start":1577836800000000000,"end":1577836830000000000,"processes":[{"path":"/app"}]}"#
    let year2020Ms: Int64 = 1_577_836_800_000
    let message = KafkaMessage(topic: "activity-dumps", partition: 0, offset: 0, key: nil, value: Array(dump.utf8), timestamp: year2020Ms)
    let record = ingestor.transform(message)
    let request = try JSONDecoder().decode(MergeRequest.self, from: Data(record.value))
    let now = Int64(Date().timeIntervalSince1970 * 1e9)
    #expect(abs(request.receivedAt - now) < 600 * 1_000_000_000, "the consumer's clock dates it, not the 2020 record time")
    #expect((request.dump.end ?? 0) > now - 25 * 3600 * 1_000_000_000, "its event times are clamped to the trusted time")
}
