import BaselineCore
import BaselineKafka
@testable import BaselinePipeline
import BaselineWire
import Foundation
import Testing

/// signal-enricher when one signal of a batch can never be delivered: its enriched output is
/// refused by the producer (larger than the producer's `message.max.bytes`, though within what the
/// enricher checks itself). That signal alone is dead-lettered (`output_rejected`), the others of
/// its batch are delivered, and the partition moves on.
@Suite struct EnricherIsolationTests {
    let logger = TestStack.logger

    func signal(image: String) -> [UInt8] {
        Array(#"{"agent":{"rule_id":"r"},"evt":{"name":"exec"},"process":{"executable":{"path":"/app"}},"tags":["image_name:\#(image)","image_tag:v1"]}"#.utf8)
    }

    /// The workloads of the enriched signals keyed `marker`, read until all of `expected` are there
    /// (records sent before an isolation go again: duplicates are expected) or 20 s passed.
    func enrichedImages(_ marker: String, expected: Set<String>) async throws -> Set<String> {
        var images = Set<String>()
        let deadline = ContinuousClock.now + .seconds(20)
        while !images.isSuperset(of: expected) && ContinuousClock.now < deadline {
            let out = try await TestStack.collect(Topics.securitySignalsEnriched, count: 1_000, timeout: .seconds(2)) { $0.keyString == marker }
            images = Set(out.compactMap { m -> String? in
                let object = (try? JSONSerialization.jsonObject(with: Data(m.value))) as? [String: Any]
                return (object?["baseline"] as? [String: Any])?["profile_key"] as? String
            })
        }
        return images
    }

    @Test func aSignalWhoseOutputTheProducerRefusesIsDeadLetteredAndTheRestDelivered() async throws {
        try TestStack.requireKafka()
        var configured = SignalEnricher(cache: nil, logger: logger)
        configured.maxOutputBytes = 100_000_000  // only the producer refuses
        let enricher = configured
        let marker = TestStack.unique("iso")
        let input = TestStack.unique("signals")
        func message(_ value: [UInt8], offset: Int64) -> KafkaMessage {
            KafkaMessage(topic: input, partition: 0, offset: offset, key: Array(marker.utf8), value: value)
        }
        // The enriched signal names its workload twice more (profile key, explanation): with a long
        // image name it outgrows the limit set between it and the dead letter of its input.
        let big = signal(image: "registry.example/" + String(repeating: "a", count: 3_000))
        let enriched = try await enricher.transform([message(big, offset: 1)]).records
        let enrichedBytes = try #require(enriched.first).wireBytes
        let deadLetterBytes = DeadLetter.record(for: message(big, offset: 1), to: Topics.securitySignalsDLQ,
                                                rejection: Rejection("output_rejected", String(repeating: "r", count: 2_000))).wireBytes
        let smallBytes = try #require(try await enricher.transform([message(signal(image: "small"), offset: 0)]).records.first).wireBytes
        try #require(enrichedBytes > deadLetterBytes + 1_000 && smallBytes + 1_000 < deadLetterBytes)
        let limit = (enrichedBytes + deadLetterBytes) / 2

        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let limited = try KafkaProducer(configuration: TestStack.kafka,
                                        extraProperties: ["message.max.bytes": "\(limit)", "batch.size": "\(limit)"], logger: logger)
        defer { limited.triggerClose() }
        // The stage dead-letters to its input's own DLQ (security-signals.dlq in production).
        let deadLetterTopic = Topics.deadLetters(of: input)
        try await producer.createTopics([(input, 1), (deadLetterTopic, 1)])
        _ = try await producer.sendAll([signal(image: "small-a"), big, signal(image: "small-b")].map {
            KafkaRecord(topic: input, key: marker, value: $0)
        })
        let stage = TransformStage(name: "signal-enricher-test",
                                   consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("se"),
                                                               topics: [input], logger: logger),
                                   producer: limited, logger: logger, classify: SignalEnricher.classify,
                                   failureCode: SignalEnricher.failureCode) { try await enricher.transform($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await stage.run() }
            defer { group.cancelAll() }
            let dead = try await TestStack.collect(deadLetterTopic, count: 1) { $0.keyString == marker }
            #expect(dead.count == 1)
            #expect(dead.first?.header(WireHeaders.errorCode)?.stringValue == "output_rejected")
            #expect(dead.first?.header(WireHeaders.sourceOffset)?.stringValue == "1")
            #expect(dead.first?.value == big)
            // The partition moves on: a signal sent after the refused one is enriched too.
            _ = try await producer.send(KafkaRecord(topic: input, key: marker, value: signal(image: "small-c")))
            #expect(try await enrichedImages(marker, expected: ["small-a", "small-b", "small-c"]) == ["small-a", "small-b", "small-c"])
        }
    }

    /// The producer's limit is below even the dead letter of the refused signal: the dead letter
    /// goes without the original (its headers say where it is), and nothing stalls.
    @Test func aDeadLetterTheProducerRefusesGoesWithoutTheOriginal() async throws {
        try TestStack.requireKafka()
        var configured = SignalEnricher(cache: nil, logger: logger)
        configured.maxOutputBytes = 100_000_000
        let enricher = configured
        let marker = TestStack.unique("bare")
        let input = TestStack.unique("signals")
        let deadLetterTopic = Topics.deadLetters(of: input)
        let big = signal(image: "registry.example/" + String(repeating: "b", count: 3_000))
        let message = KafkaMessage(topic: input, partition: 0, offset: 1, key: Array(marker.utf8), value: big)
        let full = DeadLetter.record(for: message, to: deadLetterTopic, rejection: Rejection("output_rejected", String(repeating: "r", count: 2_000)))
        let bareBytes = DeadLetter.bare(full).wireBytes
        let smallBytes = try #require(try await enricher.transform([KafkaMessage(topic: input, partition: 0, offset: 0, key: Array(marker.utf8),
                                                                                 value: signal(image: "small"))]).records.first).wireBytes
        let limit = max(bareBytes, smallBytes) + 500
        try #require(limit + 500 < full.wireBytes - 2_000)  // the real reason is far shorter than 2 000 bytes

        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        defer { producer.triggerClose() }
        let limited = try KafkaProducer(configuration: TestStack.kafka,
                                        extraProperties: ["message.max.bytes": "\(limit)", "batch.size": "\(limit)"], logger: logger)
        defer { limited.triggerClose() }
        try await producer.createTopics([(input, 1), (deadLetterTopic, 1)])
        _ = try await producer.sendAll([signal(image: "small-a"), big, signal(image: "small-b")].map {
            KafkaRecord(topic: input, key: marker, value: $0)
        })
        let stage = TransformStage(name: "signal-enricher-test",
                                   consumer: try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("se"),
                                                               topics: [input], logger: logger),
                                   producer: limited, logger: logger, classify: SignalEnricher.classify,
                                   failureCode: SignalEnricher.failureCode) { try await enricher.transform($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await stage.run() }
            defer { group.cancelAll() }
            let dead = try await TestStack.collect(deadLetterTopic, count: 1) { $0.header(WireHeaders.sourceTopic)?.stringValue == input }
            #expect(dead.count == 1)
            #expect(dead.first?.header(WireHeaders.errorCode)?.stringValue == "output_rejected")
            #expect(dead.first?.header(WireHeaders.sourceOffset)?.stringValue == "1")
            #expect(dead.first?.header(WireHeaders.originalBytes)?.stringValue == String(big.count))
            #expect(dead.first?.value.isEmpty == true)
            #expect(try await enrichedImages(marker, expected: ["small-a", "small-b"]) == ["small-a", "small-b"])
        }
    }
}
