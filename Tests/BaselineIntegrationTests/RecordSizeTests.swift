import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselineWire
import Foundation
import Testing

/// Attack shapes: headers count against librdkafka's message.max.bytes (1,000,000 by default). An
/// output or dead letter that cannot be produced would be retried for ever and stall its partition.
@Suite struct RecordSizeTests {
    static let producerLimit = 1_000_000

    static func bigHeaders(_ bytes: Int) -> [KafkaHeader] {
        (0..<(bytes / 10_000)).map { KafkaHeader(name: "x-trace-\($0)", value: Array(repeating: UInt8(ascii: "a"), count: 10_000)) }
    }

    @Test func aDeadLetterFitsAMessageWhateverTheOriginalsHeaders() {
        let message = KafkaMessage(topic: "activity-dumps", partition: 0, offset: 7, key: Array("k".utf8),
                                   value: Array(repeating: UInt8(ascii: "{"), count: 899_999), headers: Self.bigHeaders(200_000))
        let record = DeadLetter.record(for: message, to: Topics.activityDumpsDLQ, rejection: Rejection("invalid_json", "bad"))
        #expect(record.wireBytes < Self.producerLimit)
        #expect(record.headers.contains { $0.name == WireHeaders.originalHeadersDropped })
        #expect(record.headers.last { $0.name == WireHeaders.sourceOffset }?.stringValue == "7")
    }

    /// A key of a megabyte (refused at the edge as too long) with a large value: kept whole, the
    /// key alone would make the dead letter too large and push the batch into one-by-one handling.
    @Test func aDeadLetterOfAHugeKeyFitsAMessage() {
        let key = Array(repeating: UInt8(ascii: "k"), count: 1_200_000)
        let message = KafkaMessage(topic: "security-signals", partition: 0, offset: 3, key: key,
                                   value: Array(repeating: UInt8(ascii: "{"), count: 500_000), headers: [])
        let record = DeadLetter.record(for: message, to: Topics.securitySignalsDLQ, rejection: Rejection("key_too_long", "long"))
        #expect(record.wireBytes < Self.producerLimit)
        #expect(record.key?.count == DeadLetter.maxKeyBytes)
        #expect(record.headers.last { $0.name == WireHeaders.originalKeyBytes }?.stringValue == "1200000")
        #expect(record.value.count == 500_000, "the value still fits beside the cut key")
    }

    /// A reason quoting an outside string of one Character holding megabytes of combining marks
    /// (a schema of "a" + 4 MB of U+0301): cut by bytes, the dead letter fits.
    @Test func aReasonQuotingAHugeCharacterIsCutByBytes() {
        let schema = "a" + String(repeating: "\u{301}", count: 2_000_000)
        #expect(schema.count == 1, "the premise: one Character")
        let rejection = Rejection("unsupported_schema", "schema '\(schema.prefix(200))' is not supported")
        #expect(rejection.reason.utf8.count <= Rejection.maxReasonBytes)
        let message = KafkaMessage(topic: "activity-dumps", partition: 0, offset: 1, key: nil, value: Array("{}".utf8), headers: [])
        let record = DeadLetter.record(for: message, to: Topics.activityDumpsDLQ, rejection: rejection)
        #expect(record.wireBytes < 10_000)
        #expect(DeadLetter.bare(record).wireBytes < 10_000)
    }

    @Test func forgedBaselineHeadersDoNotTravelIntoADeadLetter() {
        let message = KafkaMessage(topic: "activity-dumps", partition: 0, offset: 7, key: nil, value: Array("x".utf8),
                                   headers: [KafkaHeader(WireHeaders.sourceOffset, "999"), KafkaHeader(WireHeaders.errorCode, "forged")])
        let record = DeadLetter.record(for: message, to: Topics.activityDumpsDLQ, rejection: Rejection("invalid_json", "bad"))
        #expect(record.headers.filter { $0.name == WireHeaders.sourceOffset }.map(\.stringValue) == ["7"])
        #expect(record.headers.filter { $0.name == WireHeaders.errorCode }.map(\.stringValue) == ["invalid_json"])
    }

    @Test func aMergeRequestWithItsHeadersFitsOrIsDeadLettered() throws {
        let processes = (0..<4000).map { ProcessNode(path: "/usr/bin/p\($0)-" + String(repeating: "x", count: 200)) }
        let dump = ActivityDump(id: "big-1", workload: Workload(imageName: "app", containerID: "c1"), processes: processes)
        let value = Array(try JSONEncoder().encode(dump))
        let message = KafkaMessage(topic: "activity-dumps", partition: 0, offset: 0, key: nil, value: value,
                                   headers: Self.bigHeaders(60_000), timestamp: Int64(Date().timeIntervalSince1970 * 1000))
        let record = DumpIngestor(logger: TestStack.logger).transform(message)
        #expect(record.wireBytes < Self.producerLimit, "\(record.topic): \(record.wireBytes) bytes")
    }
}
