import BaselineKafka
import BaselinePipeline
import BaselineWire
import Foundation
import Testing

/// The real dump-consumer executable: on SIGTERM it finishes, commits its offsets and exits 0.
@Suite struct GracefulShutdownTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func sigtermCommitsOffsetsAndExitsCleanly() async throws {
        try TestStack.requireKafka()
        let binary = Self.repo.appendingPathComponent(".build/debug/dump-consumer")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing: build the executables first (scripts/test runs swift build --build-tests)")
            return
        }
        let group = TestStack.unique("dc-shutdown")
        let dumpID = TestStack.unique("dump")
        let producer = try KafkaProducer(configuration: TestStack.kafka, logger: TestStack.logger)
        defer { producer.triggerClose() }
        let dump = #"{"id":"\#(dumpID)","workload":{"image_name":"shutdown-test"},"processes":[{"path":"/bin/app"}]}"#
        let input = TestStack.unique("dumps")  // only this process consumes it
        try await producer.createTopics([(input, 1)])
        let report = try await producer.send(KafkaRecord(topic: input, key: nil, value: Array(dump.utf8)))

        let process = Process()
        process.executableURL = binary
        var env = ProcessInfo.processInfo.environment
        env["BASELINE_KAFKA_BROKERS"] = TestStack.brokers
        env["BASELINE_DUMP_CONSUMER_GROUP"] = group
        env["BASELINE_DUMPS_TOPIC"] = input
        env["BASELINE_HTTP_PORT"] = "0"
        env["BASELINE_LOG_LEVEL"] = "warning"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // Once the dump was passed on, stop the service the way an orchestrator does.
        let out = try await TestStack.collect(Topics.profileMergeRequests, count: 1, timeout: .seconds(30)) {
            $0.header(WireHeaders.dumpID)?.stringValue == dumpID
        }
        #expect(out.count == 1)
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "dump-consumer did not stop within 20 s of SIGTERM")
        if process.isRunning { process.terminate(); return }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)

        // Its committed offset covers the dump: a restart would not process it again.
        let probe = try KafkaConsumer(configuration: TestStack.kafka, groupID: group, topics: [input],
                                      logger: TestStack.logger)
        let tp = KafkaTopicPartition(topic: report.topic, partition: report.partition)
        let committed = try await probe.committed([tp])
        #expect((committed[tp] ?? -1) > report.offset)
        await probe.close()
    }
}
