@testable import BaselineKafka
import Foundation
import Logging
import Testing

@Suite(.serialized) struct KafkaIntegrationTests {
    let logger = TestStack.logger

    func makeTopic(partitions: Int32) async throws -> (String, KafkaProducer) {
        try TestStack.requireKafka()
        let topic = TestStack.unique("it")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: logger)
        try await producer.createTopics([(topic, partitions)])
        try await producer.createTopics([(topic, partitions)])  // idempotent: "already exists" is success
        return (topic, producer)
    }

    @Test func librdkafkaIsNewEnough() throws {
        try LibRdKafka.requireMinimumVersion()
        #expect(LibRdKafka.versionString.hasPrefix("2."))
    }

    @Test func roundTripKeepsKeysHeadersAndPartitioning() async throws {
        let (topic, producer) = try await makeTopic(partitions: 3)
        defer { producer.triggerClose() }
        let records = (0..<12).map { i in
            KafkaRecord(topic: topic, key: "key-\(i % 3)", value: Array("value-\(i)".utf8),
                        headers: [KafkaHeader("content-type", "text/plain"), KafkaHeader(name: "bin", value: [0, 1, UInt8(i)])])
        }
        let reports = try await producer.sendAll(records)
        #expect(reports.count == 12)
        #expect(reports.allSatisfy { $0.offset >= 0 && $0.topic == topic })

        let received = try await TestStack.collect(topic, count: 12)
        #expect(received.count == 12)
        let byValue = Dictionary(uniqueKeysWithValues: received.map { (String(decoding: $0.value, as: UTF8.self), $0) })
        for i in 0..<12 {
            let m = try #require(byValue["value-\(i)"])
            #expect(m.keyString == "key-\(i % 3)")
            #expect(m.header("content-type")?.stringValue == "text/plain")
            #expect(m.header("bin")?.value == [0, 1, UInt8(i)])
        }
        // Same key, same partition: the property profile re-keying relies on.
        let partitionsPerKey = Dictionary(grouping: received, by: { $0.keyString! }).mapValues { Set($0.map(\.partition)) }
        #expect(partitionsPerKey.values.allSatisfy { $0.count == 1 })
    }

    /// librdkafka refuses a record over message.max.bytes on the spot: that record fails alone,
    /// and the records after it are still produced (one oversized dump must not block the rest).
    @Test func aRecordRefusedOnTheSpotDoesNotFailTheOthers() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        let huge = [UInt8](repeating: 0x61, count: 2_000_000)  // over librdkafka's default message.max.bytes
        let records = [KafkaRecord(topic: topic, key: "a", value: Array("small-1".utf8)), KafkaRecord(topic: topic, key: "b", value: huge),
                       KafkaRecord(topic: topic, key: "c", value: Array("small-2".utf8))]
        let results = try await producer.sendEach(records)
        #expect(results.count == 3)
        #expect((try? results[0].get()) != nil && (try? results[2].get()) != nil)
        guard case .failure(let error) = results[1] else {
            Issue.record("the oversized record must fail")
            return
        }
        #expect(error.code == 10)  // RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
        // sendAll still reports the failure, after producing the others.
        await #expect(throws: KafkaError.self) { try await producer.sendAll(records) }
        let received = try await TestStack.collect(topic, count: 4)
        #expect(received.map { String(decoding: $0.value, as: UTF8.self) } == ["small-1", "small-2", "small-1", "small-2"])
    }

    @Test func newConsumerResumesFromCommittedOffsets() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        _ = try await producer.sendAll((0..<10).map { KafkaRecord(topic: topic, key: nil, value: Array("m\($0)".utf8)) })
        let group = TestStack.unique("resume")

        let first = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic], logger: logger)
        var seen: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while seen.count < 4 && ContinuousClock.now < deadline {
            seen += try await first.poll(maxMessages: 4 - seen.count, maxWaitMs: 200)
        }
        #expect(seen.map(\.offset) == [0, 1, 2, 3])
        try await first.commit(after: seen)
        await first.close()

        let second = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic], logger: logger)
        var rest: [KafkaMessage] = []
        let deadline2 = ContinuousClock.now + .seconds(15)
        while rest.count < 6 && ContinuousClock.now < deadline2 {
            rest += try await second.poll(maxMessages: 100, maxWaitMs: 200)
        }
        #expect(rest.map(\.offset) == [4, 5, 6, 7, 8, 9])
        let committed = try await second.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        #expect(committed[KafkaTopicPartition(topic: topic, partition: 0)] == 4)
        await second.close()
    }

    @Test func assignHandlerAndSeekChooseTheStartOffset() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        _ = try await producer.sendAll((0..<10).map { KafkaRecord(topic: topic, key: nil, value: Array("m\($0)".utf8)) })
        let tp = KafkaTopicPartition(topic: topic, partition: 0)
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("seek"), topics: [topic],
                                         onAssign: { _ in [tp: 7] }, logger: logger)
        var got: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while got.count < 3 && ContinuousClock.now < deadline { got += try await consumer.poll(maxMessages: 100, maxWaitMs: 200) }
        #expect(got.map(\.offset) == [7, 8, 9])

        try await consumer.seek([tp: 2])
        var again: [KafkaMessage] = []
        let deadline2 = ContinuousClock.now + .seconds(15)
        while again.count < 8 && ContinuousClock.now < deadline2 { again += try await consumer.poll(maxMessages: 100, maxWaitMs: 200) }
        #expect(again.first?.offset == 2)
        #expect(again.count == 8)
        await consumer.close()
    }

    /// An `onAssign` that fails (the database is down) is asked again: the partitions are not
    /// fetched from the group's committed offsets meanwhile, which would skip or repeat work.
    @Test func aFailingAssignHandlerIsRetriedNeverBypassed() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        _ = try await producer.sendAll((0..<6).map { KafkaRecord(topic: topic, key: nil, value: Array("m\($0)".utf8)) })
        let tp = KafkaTopicPartition(topic: topic, partition: 0)
        let calls = MergerFencingTests.Samples<Int>()
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("retry"), topics: [topic],
                                         onAssign: { _ in
                                             calls.append(1)
                                             let call = calls.all.count
                                             if call <= 2 { throw KafkaError("database down (call \(call))") }
                                             return [tp: 4]
                                         }, logger: logger)
        var got: [KafkaMessage] = []
        var sawAwaiting = false
        let deadline = ContinuousClock.now + .seconds(20)
        while got.count < 2 && ContinuousClock.now < deadline {
            got += try await consumer.poll(maxMessages: 100, maxWaitMs: 200)
            if consumer.isAwaitingStartOffsets { sawAwaiting = true }
        }
        #expect(got.map(\.offset) == [4, 5])
        #expect(calls.all.count == 3)
        #expect(sawAwaiting)
        await consumer.close()
    }

    @Test func twoConsumersInOneGroupSplitThePartitions() async throws {
        let (topic, producer) = try await makeTopic(partitions: 4)
        defer { producer.triggerClose() }
        let group = TestStack.unique("rebalance")
        let a = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic], logger: logger)
        // A alone gets everything.
        let deadline = ContinuousClock.now + .seconds(15)
        while a.assignment.count < 4 && ContinuousClock.now < deadline { _ = try await a.poll(maxMessages: 10, maxWaitMs: 100) }
        #expect(a.assignment.count == 4)

        let b = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic], logger: logger)
        let deadline2 = ContinuousClock.now + .seconds(20)
        while (a.assignment.isEmpty || b.assignment.isEmpty || a.assignment.count + b.assignment.count != 4)
                && ContinuousClock.now < deadline2 {
            async let pa = a.poll(maxMessages: 10, maxWaitMs: 100)
            async let pb = b.poll(maxMessages: 10, maxWaitMs: 100)
            _ = try await (pa, pb)
        }
        #expect(!a.assignment.isEmpty && !b.assignment.isEmpty)
        #expect(a.assignment.isDisjoint(with: b.assignment))
        #expect(a.assignment.union(b.assignment).count == 4)
        #expect(a.rebalanceCount >= 3)  // assign, revoke, assign again

        // Messages produced now reach the group exactly once across both members.
        _ = try await producer.sendAll((0..<20).map { KafkaRecord(topic: topic, key: "k\($0)", value: Array("v\($0)".utf8)) })
        var total: [KafkaMessage] = []
        let deadline3 = ContinuousClock.now + .seconds(15)
        while total.count < 20 && ContinuousClock.now < deadline3 {
            async let pa = a.poll(maxMessages: 100, maxWaitMs: 100)
            async let pb = b.poll(maxMessages: 100, maxWaitMs: 100)
            let (ma, mb) = try await (pa, pb)
            total += ma + mb
        }
        #expect(Set(total.map { String(decoding: $0.value, as: UTF8.self) }).count == 20)
        #expect(total.count == 20)
        await a.close()
        await b.close()
    }

    /// A standby (more members than partitions) whose `onAssign` is given no partitions must still
    /// complete the rebalance: librdkafka waits for an assign call even for an empty assignment,
    /// and a member stuck waiting never rejoins, so the group could never rebalance again.
    @Test func aStandbyWithAnAssignHandlerTakesOverWhenTheOwnerLeaves() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        let group = TestStack.unique("standby")
        let handler: KafkaConsumer.AssignHandler = { _ in [:] }
        // The range assignor gives the one partition to the member whose id sorts first.
        let standby = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic],
                                        extraProperties: ["client.id": "b-standby"], onAssign: handler, logger: logger)
        let deadline = ContinuousClock.now + .seconds(15)
        while standby.assignment.isEmpty && ContinuousClock.now < deadline { _ = try await standby.poll(maxMessages: 10, maxWaitMs: 100) }
        #expect(standby.assignment.count == 1)

        let owner = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [topic],
                                      extraProperties: ["client.id": "a-owner"], onAssign: handler, logger: logger)
        let deadline2 = ContinuousClock.now + .seconds(20)
        while (owner.assignment.isEmpty || !standby.assignment.isEmpty) && ContinuousClock.now < deadline2 {
            async let po = owner.poll(maxMessages: 10, maxWaitMs: 100)
            async let ps = standby.poll(maxMessages: 10, maxWaitMs: 100)
            _ = try await (po, ps)
        }
        #expect(owner.assignment.count == 1 && standby.assignment.isEmpty)

        // The owner leaves: the standby, given nothing last time, is given the partition.
        await owner.close()
        let deadline3 = ContinuousClock.now + .seconds(20)
        while standby.assignment.isEmpty && ContinuousClock.now < deadline3 { _ = try await standby.poll(maxMessages: 10, maxWaitMs: 100) }
        #expect(standby.assignment == [KafkaTopicPartition(topic: topic, partition: 0)])
        await standby.close()
    }

    /// Where a partition's log ends, as a fetch sees it: right even where ListOffsets under-reports
    /// it (Tansu 0.6 answers the last record batch's first offset + 1).
    @Test func theFetchedHighWatermarkIsTheLogsEnd() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        let tp = KafkaTopicPartition(topic: topic, partition: 0)
        for batch in 0..<3 {  // three batches of four records
            _ = try await producer.sendAll((0..<4).map { KafkaRecord(topic: topic, partition: 0, key: nil, value: Array("b\(batch)m\($0)".utf8)) })
        }
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("probe"), topics: [topic], logger: logger)
        let listed = try await consumer.watermarks(tp)
        #expect(listed.low == 0 && listed.high <= 12)
        for start in [0, listed.high, 12] {
            #expect(try await consumer.fetchedHighWatermark(tp, from: start) == 12, "fetching from \(start)")
        }
        await consumer.close()
        await #expect(throws: KafkaError.self) { _ = try await consumer.fetchedHighWatermark(tp, from: 0) }
    }

    @Test func invalidPropertyIsAClearError() throws {
        let config = KafkaConfiguration(brokers: TestStack.brokers, properties: ["no.such.property": "1"])
        #expect(throws: KafkaError.self) { try KafkaProducer(configuration: config, logger: logger) }
        #expect(throws: KafkaError.self) { try KafkaConfiguration.parseProperties("security.protocol") }
        #expect(try KafkaConfiguration.parseProperties("security.protocol=SASL_SSL, sasl.mechanism=PLAIN\n# c\nssl.ca.location=/x")
                == ["security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "ssl.ca.location": "/x"])
    }

    // MARK: - Lifecycle, rebalancing, logs (the librdkafka layer's reliability review)

    @Test func callsAfterCloseThrowClosed() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        _ = try await producer.send(KafkaRecord(topic: topic, key: nil, value: Array("m0".utf8)))
        let tp = KafkaTopicPartition(topic: topic, partition: 0)
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("closed"), topics: [topic],
                                         logger: logger)
        var got: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while got.isEmpty && ContinuousClock.now < deadline { got += try await consumer.poll(maxMessages: 10, maxWaitMs: 200) }
        #expect(got.count == 1)
        #expect(consumer.hasAssignment)
        #expect(consumer.lastSuccessfulPoll != nil)
        #expect(!consumer.health.isClosed && !producer.health.isClosed)

        await consumer.close()
        await consumer.close()  // idempotent
        #expect(consumer.health.isClosed)
        await #expect(throws: KafkaError.closed) { try await consumer.poll(maxMessages: 1, maxWaitMs: 10) }
        await #expect(throws: KafkaError.closed) { try await consumer.commit(after: got) }
        await #expect(throws: KafkaError.closed) { try await consumer.commit([:]) }
        await #expect(throws: KafkaError.closed) { try await consumer.committed([tp]) }
        await #expect(throws: KafkaError.closed) { try await consumer.seek([tp: 0]) }
        var iterator = consumer.batches().makeAsyncIterator()
        #expect(try await iterator.next() == nil)  // a closed consumer's sequence just ends

        await producer.close()
        producer.triggerClose()  // idempotent too
        #expect(producer.health.isClosed)
        await #expect(throws: KafkaError.closed) { try await producer.send(KafkaRecord(topic: topic, key: nil, value: [1])) }
        await #expect(throws: KafkaError.closed) { try await producer.sendAll([]) }
        await #expect(throws: KafkaError.closed) { try await producer.createTopics([(topic, 1)]) }
    }

    @Test func failedInitDestroysTheHandleOnce() async throws {
        try TestStack.requireKafka()
        let before = DestroyLedger.snapshot.count
        let invalid: [[String]] = [[], ["^(unclosed"]]  // no topic; a subscription regex that does not compile
        for _ in 0..<5 {
            for topics in invalid {
                #expect(throws: KafkaError.self) {
                    try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("bad"), topics: topics, logger: logger)
                }
            }
        }
        // The handles go to a background thread for destruction; each exactly once.
        let deadline = ContinuousClock.now + .seconds(20)
        while DestroyLedger.snapshot.count < before + 10 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let ledger = DestroyLedger.snapshot
        #expect(ledger.count >= before + 10)
        #expect(ledger.values.allSatisfy { $0 == 1 })

        // The library is still healthy: a valid consumer in the same process works.
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        _ = try await producer.send(KafkaRecord(topic: topic, key: nil, value: Array("ok".utf8)))
        let received = try await TestStack.collect(topic, count: 1)
        #expect(received.count == 1)
    }

    /// An `onAssign` that takes 2 s (a slow PostgreSQL query) must not freeze the consumer's poll
    /// loop nor another consumer in the process, and no message may arrive before its offsets apply.
    @Test func slowAssignHandlerKeepsPollingAndStillStartsAtItsOffsets() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        _ = try await producer.sendAll((0..<10).map { KafkaRecord(topic: topic, key: nil, value: Array("m\($0)".utf8)) })
        let tp = KafkaTopicPartition(topic: topic, partition: 0)
        let handlerDone = LockedValue<ContinuousClock.Instant?>(nil)
        let slow = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("slow"), topics: [topic],
                                     onAssign: { _ in
                                         try await Task.sleep(for: .seconds(2))
                                         handlerDone.value = .now
                                         return [tp: 7]
                                     }, logger: logger)
        let other = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("other"), topics: [topic], logger: logger)

        async let slowRun: (messages: [(KafkaMessage, ContinuousClock.Instant)], longestPoll: Duration, sawAwaiting: Bool) = {
            var messages: [(KafkaMessage, ContinuousClock.Instant)] = []
            var longest = Duration.zero
            var sawAwaiting = false
            let deadline = ContinuousClock.now + .seconds(20)
            while messages.count < 3 && ContinuousClock.now < deadline {
                let handlerRunning = handlerDone.value == nil  // judged at the start: a blocked poll ends after it
                let start = ContinuousClock.now
                let batch = try await slow.poll(maxMessages: 100, maxWaitMs: 100)
                let end = ContinuousClock.now
                if handlerRunning { longest = max(longest, end - start) }
                sawAwaiting = sawAwaiting || slow.isAwaitingStartOffsets
                messages += batch.map { ($0, end) }
            }
            return (messages, longest, sawAwaiting)
        }()
        async let otherRun: [(KafkaMessage, ContinuousClock.Instant)] = {
            var messages: [(KafkaMessage, ContinuousClock.Instant)] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while messages.count < 10 && ContinuousClock.now < deadline {
                messages += try await other.poll(maxMessages: 100, maxWaitMs: 100).map { ($0, ContinuousClock.now) }
            }
            return messages
        }()
        let (slowResult, otherResult) = try await (slowRun, otherRun)
        await slow.close()
        await other.close()

        let done = try #require(handlerDone.value)
        #expect(slowResult.sawAwaiting)
        #expect(slowResult.longestPoll < .seconds(1), "a poll took \(slowResult.longestPoll) while the handler ran")
        #expect(slowResult.messages.map(\.0.offset) == [7, 8, 9])
        #expect(slowResult.messages.allSatisfy { $0.1 >= done })
        #expect(otherResult.map(\.0.offset) == Array(0..<10))
        #expect(otherResult.contains { $0.1 < done }, "the other consumer was served while the handler ran")
    }

    /// Shutting down while `onAssign` still waits (e.g. for the database) must not hang: the
    /// member leaves the group and the handler is cancelled.
    @Test func closingWhileAssignHandlerRunsIsPromptAndCancelsIt() async throws {
        let (topic, producer) = try await makeTopic(partitions: 1)
        defer { producer.triggerClose() }
        let started = LockedValue(false)
        let cancelled = LockedValue(false)
        let consumer = try KafkaConsumer(configuration: TestStack.kafka, groupID: TestStack.unique("cancel"), topics: [topic],
                                         onAssign: { _ in
                                             started.value = true
                                             do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.value = true; throw error }
                                             return [:]
                                         }, logger: logger)
        let deadline = ContinuousClock.now + .seconds(15)
        while !started.value && ContinuousClock.now < deadline { _ = try await consumer.poll(maxMessages: 10, maxWaitMs: 100) }
        #expect(started.value)
        #expect(consumer.isAwaitingStartOffsets && !consumer.hasAssignment)
        let closing = ContinuousClock.now
        await consumer.close()
        #expect(ContinuousClock.now - closing < .seconds(10))
        let cancelDeadline = ContinuousClock.now + .seconds(5)
        while !cancelled.value && ContinuousClock.now < cancelDeadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(cancelled.value)
        #expect(!consumer.isAwaitingStartOffsets)
    }

    @Test func librdkafkaLogsAndErrorsReachSwiftLog() async throws {
        let capture = LogCapture()
        let captured = Logger(label: "kafka-capture") { _ in capture }
        // Nothing listens on port 1: librdkafka logs the refused connection and reports all brokers down.
        let config = KafkaConfiguration(brokers: "127.0.0.1:1", properties: TestStack.kafkaProperties)
        let producer = try KafkaProducer(configuration: config, extraProperties: ["message.timeout.ms": "2000"], logger: captured)
        let consumer = try KafkaConsumer(configuration: config, groupID: TestStack.unique("logs"), topics: ["nowhere"], logger: captured)
        await #expect(throws: KafkaError.self) { try await producer.send(KafkaRecord(topic: "nowhere", key: nil, value: [1])) }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline
                && !(capture.contains(client: "rdkafka#consumer") && consumer.health.brokersDown && producer.health.brokersDown) {
            _ = try await consumer.poll(maxMessages: 1, maxWaitMs: 100)  // serves the consumer's logs and errors
        }
        let lines = capture.entries.filter { $0.source == "librdkafka" }
        #expect(lines.contains { $0.metadata["kafka.client"].map { "\($0)" }?.hasPrefix("rdkafka#producer") == true })
        #expect(capture.contains(client: "rdkafka#consumer"))
        #expect(lines.contains { $0.level == .error && $0.message.contains("127.0.0.1:1") })
        #expect(producer.health.brokersDown && consumer.health.brokersDown)
        #expect(producer.health.lastError != nil && producer.health.lastErrorAt != nil)
        await consumer.close()
        await producer.close(timeoutMs: 100)
        #expect(Logger.Level(syslog: 0) == .critical && Logger.Level(syslog: 3) == .error
                && Logger.Level(syslog: 4) == .warning && Logger.Level(syslog: 5) == .notice
                && Logger.Level(syslog: 6) == .info && Logger.Level(syslog: 7) == .debug)
    }
}
