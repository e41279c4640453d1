import BaselineCore
import BaselineKafka
import BaselinePipeline
import BaselineWire
import Foundation
import Testing

/// Nothing is lost: over a mixed batch (valid dumps in every format and garbage of every kind),
/// every input comes out exactly once, either as a merge request or as a dead letter.
@Suite struct DumpConservationTests {
    let logger = TestStack.logger

    @Test func inputsEqualOutputsPlusRejections() async throws {
        try TestStack.requireKafka()
        let run = TestStack.unique("run")
        let image = TestStack.unique("img")
        let valid: [[UInt8]] = [
            Array(#"{"id":"\#(run)-a","workload":{"image_name":"\#(image)","container_id":"c1"},"processes":[{"path":"/bin/a"}]}"#.utf8),
            Array(#"{"workload":{"image_name":"\#(image)","container_id":"c2"},"processes":[{"path":"/bin/b","files":[{"path":"/proc/9/stat"}]}]}"#.utf8),
            Array(#"{"metadata":{"name":"\#(run)-dd","container_id":"c3"},"tags":["image_name:\#(image)"],"tree":[{"process":{"file":{"path":"/bin/c"}}}]}"#.utf8),
        ]
        // Valid input whose merge request would not fit a Kafka message (librdkafka's default limit).
        let manyFiles = (0..<9_000).map { #"{"path":"/var/lib/app/objects/\#($0)-\#(String(repeating: "a", count: 90))"}"# }.joined(separator: ",")
        let tooBig = Array(#"{"workload":{"image_name":"x","container_id":"c9"},"processes":[{"path":"/bin/a","files":[\#(manyFiles)]}]}"#.utf8)
        let longKey = Array(#"{"workload":{"image_name":"x","container_id":"c8"},"processes":[{"path":"/bin/a","files":[{"path":"/\#(String(repeating: "d", count: 2500))"}]}]}"#.utf8)
        let deepTree = "{\"workload\":{\"image_name\":\"x\"},\"processes\":[" + String(repeating: "{\"path\":\"/a\",\"children\":[", count: 70)
            + String(repeating: "]}", count: 70) + "]}"
        let garbage: [[UInt8]] = [
            [0xFF, 0xFE, 0xFD],                                            // binary noise
            Array(#"{"workload":{"image_name":"x"},"processes":[{"pa"#.utf8), // truncated JSON
            [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D],               // invalid UTF-8
            Array(#"{"workload":{"image_name":"x"},"processes":[{"path":7}]}"#.utf8),  // wrong type
            Array(repeating: UInt8(ascii: "a"), count: 17 << 20),           // huge
            Array(deepTree.utf8),                                            // deep tree
            Array(#"{"workload":{"image_name":"x"},"processes":[]}"#.utf8),  // empty tree
            [],                                                              // empty payload
            tooBig,                                                          // output over message.max.bytes
            longKey,                                                         // node key over the index limit
        ]
        let producer = try KafkaProducer(configuration: TestStack.kafka, extraProperties: ["message.max.bytes": "40000000"], logger: logger)
        defer { producer.triggerClose() }
        let input = TestStack.unique("conservation-in")
        try await producer.createTopics([(input, 2)])
        let inputs = (valid + garbage).enumerated().map { i, bytes in
            KafkaRecord(topic: input, key: "k\(i)", value: bytes, headers: [KafkaHeader("run", run), KafkaHeader("n", "\(i)")])
        }
        _ = try await producer.sendAll(inputs)

        // The stage produces with librdkafka's default limits, as dump-consumer does.
        let stageProducer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { stageProducer.triggerClose() }
        let ingest = DumpIngestor(logger: logger)
        let stage = TransformStage(name: "dump-consumer-test",
                                   consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("dc"),
                                                               topics: [input], logger: logger),
                                   producer: stageProducer, logger: logger) { ingest.transform($0) }
        let mine: (KafkaMessage) -> Bool = { $0.header("run")?.stringValue == run }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await stage.run() }
            defer { group.cancelAll() }
            let accepted = try await TestStack.collect(Topics.profileMergeRequests, count: valid.count, where: mine)
            let rejected = try await TestStack.collect(Topics.activityDumpsDLQ, count: garbage.count, where: mine)
            #expect(accepted.count == valid.count)
            #expect(rejected.count == garbage.count)
            let seen = (accepted + rejected).compactMap { $0.header("n")?.stringValue }
            #expect(Set(seen) == Set((0..<inputs.count).map(String.init)))  // each input exactly once
            #expect(seen.count == inputs.count)
            #expect(accepted.allSatisfy { $0.keyString == image })  // re-keyed by profile

            let reasons = Dictionary(uniqueKeysWithValues: rejected.map {
                (Int($0.header("n")!.stringValue!)!, $0.header(WireHeaders.errorCode)!.stringValue!)
            })
            let g = valid.count
            #expect(reasons[g + 1] == "invalid_json")
            #expect(reasons[g + 2] == "invalid_utf8")
            #expect(reasons[g + 3] == "invalid_field")
            #expect(reasons[g + 4] == "payload_too_large")
            #expect(reasons[g + 5] == "too_deep")
            #expect(reasons[g + 6] == "empty_tree")
            #expect(reasons[g + 7] == "empty_payload")
            #expect(reasons[g + 8] == "output_too_large")
            #expect(reasons[g + 9] == "node_key_too_long")
            // Dead letters keep the original bytes; one too large for a message keeps its first bytes and says so.
            for m in rejected {
                let n = Int(m.header("n")!.stringValue!)!
                if let original = m.header(WireHeaders.originalBytes)?.stringValue {
                    #expect(Int(original) == inputs[n].value.count && m.value == Array(inputs[n].value.prefix(m.value.count)))
                } else {
                    #expect(m.value == inputs[n].value)
                }
            }
            #expect(rejected.contains { $0.header(WireHeaders.originalBytes) != nil })
        }
    }
}
