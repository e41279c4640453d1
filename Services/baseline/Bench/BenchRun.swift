import ArgumentParser
import BaselineCore
import BaselineKafka
import BaselineWire
import Foundation

/// One run of `baseline bench`: every figure measured in this run, in an order where the memory
/// figure comes first (before other work leaves freed pages for it to reuse).
struct BenchRun: Sendable {
    let plan: BenchPlan
    let stack: BenchStack
    let resetTopics: Bool
    /// The fleet whose partitions the scale-out rows size.
    let fleet: FleetSizing
    let progress = BenchProgress(steps: 12)

    func measure() async throws -> BenchTable {
        var table = BenchTable()
        defer { progress.finish() }

        // 1. Resident bytes per node.
        progress.show(1, "resident size of a \(plan.residentNodes)-node profile")
        let resident = CoreBench.residency(nodes: plan.residentNodes)
        let residentTarget = 20.0 * Double(1 << 20) / 50_000  // 20 MB for 50,000 nodes
        table.add(BenchRow("resident bytes per node (\(BenchFormat.grouped(Double(resident.nodes)))-node profile, 10 instances)",
                           "\(BenchFormat.grouped(resident.bytesPerNode)) B (\(BenchFormat.bytes(Double(resident.bytes))))",
                           comparedWith: "20 MB / 50,000 nodes = \(Int(residentTarget)) B", ratio: BenchFormat.percent(resident.bytesPerNode / residentTarget),
                           target: "< 100 %", met: resident.bytesPerNode < residentTarget))

        // 2. Match cost.
        var costs: [CoreBench.MatchCost] = []
        for size in plan.matchSizes {
            progress.show(2, "match cost at \(size) nodes")
            costs.append(CoreBench.matchCost(nodes: size, matches: plan.matches))
        }
        let worst = costs.map { max($0.hitNanoseconds, $0.missNanoseconds) }
        let flat = (worst.max() ?? 0) / max(worst.min() ?? 1, 1)
        for c in costs {
            table.add(BenchRow("match per signal at \(BenchFormat.grouped(Double(c.nodes))) nodes (hit / miss)",
                               "\(BenchFormat.duration(nanoseconds: c.hitNanoseconds)) / \(BenchFormat.duration(nanoseconds: c.missNanoseconds))",
                               comparedWith: "5 µs", target: "< 5 µs", met: max(c.hitNanoseconds, c.missNanoseconds) < 5000))
        }
        table.add(BenchRow("match cost, largest ÷ smallest profile", String(format: "%.2f×", flat), target: "flat (< 2×)", met: flat < 2))

        // 3. Fixtures.
        progress.show(3, "generating \(plan.dumps) dumps and \(plan.signals) signals")
        let fixtures = try BenchFixtures(plan: plan, partitions: Int(stack.partitions))

        // 4. Core merge in memory.
        progress.show(4, "merging \(fixtures.requests.count) dumps in memory")
        let merge = CoreBench.merge(fixtures.requests)
        let enrichCost = try CoreBench.enrichmentCost(fixtures.signalPayloads, states: merge.states)
        let codec = try CoreBench.codecCost(fixtures.dumpPayloads)

        // 5. Stack.
        progress.show(5, "resetting topics on \(stack.kafka.brokers) and database \(stack.databaseName)")
        let producer = try KafkaProducer(configuration: stack.kafka, logger: cliLogger)
        defer { producer.triggerClose() }
        // The bench deletes topics and drops a database: only a broker on this machine unless told,
        // and only a database of its own (an empty-looking topic may be a read that failed).
        if !resetTopics && !stack.brokersAreLocal {
            throw ValidationError("the broker at \(stack.kafka.brokers) is not on this machine: the bench deletes and re-creates the pipeline's topics; give it a broker of its own and --reset-topics (scripts/bench does)")
        }
        try stack.checkBenchDatabaseName()
        let held = try await stack.messages(in: BenchStack.topics)
        if held > 0 && !resetTopics {
            throw ValidationError("the broker at \(stack.kafka.brokers) holds \(held) message(s) on the pipeline's topics: give the bench a broker of its own and --reset-topics (scripts/bench does)")
        }
        try await stack.resetTopics(producer)
        try await stack.recreateDatabase()

        // 6. Dumps in; a plain consumer reads them.
        let d = fixtures.dumpPayloads.count
        try await PipelineBench.produce(producer, topic: Topics.activityDumps, values: fixtures.dumpPayloads) { progress.show(6, "producing dumps: \($0) of \(d)") }
        let plainDumps = try await PipelineBench.plainConsumerRate(stack.kafka, topic: Topics.activityDumps, expected: d, timeout: .seconds(120)) {
            progress.show(6, "plain consumer: \($0) of \(d) dumps read")
        }
        table.add(BenchRow("core merge in memory (\(fixtures.meanNodes) nodes per dump)",
                           "\(BenchFormat.rate(merge.dumpsPerSecond, "dumps")), \(BenchFormat.rate(merge.nodesPerSecond, "nodes"))",
                           comparedWith: "plain consumer \(BenchFormat.rate(plainDumps, "msg"))", ratio: BenchFormat.percent(merge.dumpsPerSecond / plainDumps)))

        var services: [ServiceProcess] = []
        var consumers: [KafkaConsumer] = []
        do {
            // 7. Ingest: dump-consumer + profile-merger on the backlog.
            services.append(try stack.start("dump-consumer"))
            services.append(try stack.start("profile-merger"))
            let running = services
            let ingest = try await stack.withBenchDatabase { client in
                try await PipelineBench.mergedDumpsRate(client, expected: d, timeout: .seconds(120 + Double(d) / 20), services: running) {
                    progress.show(7, "ingest: \($0) of \(d) dumps merged (dump-consumer + profile-merger)")
                }
            }
            let ingestRatio = ingest / plainDumps
            table.add(BenchRow("ingest: activity-dumps → PostgreSQL rows (\(fixtures.meanNodes) nodes per dump)", BenchFormat.rate(ingest, "dumps"),
                               comparedWith: "plain consumer \(BenchFormat.rate(plainDumps, "msg"))", ratio: BenchFormat.percent(ingestRatio),
                               target: "≥ 50 %", met: ingestRatio >= 0.5))
            let mergeNs = 1e9 / merge.dumpsPerSecond
            table.add(BenchRow("… core per dump in memory: decode + encode | decode + merge",
                               "\(BenchFormat.duration(nanoseconds: codec.decodeNanoseconds)) + \(BenchFormat.duration(nanoseconds: codec.encodeNanoseconds)) | "
                               + "\(BenchFormat.duration(nanoseconds: codec.requestDecodeNanoseconds)) + \(BenchFormat.duration(nanoseconds: mergeNs))",
                               comparedWith: "plain consumer per msg \(BenchFormat.duration(nanoseconds: 1e9 / plainDumps))",
                               ratio: BenchFormat.percent((codec.decodeNanoseconds + codec.encodeNanoseconds) / (1e9 / plainDumps))
                                   + " | " + BenchFormat.percent((codec.requestDecodeNanoseconds + mergeNs) / (1e9 / plainDumps))))

            // 8. Storage, then the same workload's dumps again and again.
            progress.show(8, "PostgreSQL size of profile_nodes")
            let before = try await stack.withBenchDatabase { try await PipelineBench.storage($0) }
            table.add(BenchRow("PostgreSQL bytes per distinct node (\(BenchFormat.grouped(Double(before.nodes))) nodes)",
                               "\(BenchFormat.grouped(before.bytesPerNode)) B (heap \(BenchFormat.bytes(Double(before.tableBytes))), indexes \(BenchFormat.bytes(Double(before.indexBytes))); rows alone \(before.liveRowBytes / max(before.nodes, 1)) B)",
                               comparedWith: "200 B", ratio: BenchFormat.percent(before.bytesPerNode / 200), target: "< 100 %", met: before.bytesPerNode < 200))
            let repeats = fixtures.repeatPayloads(times: plan.repeats)
            try await PipelineBench.produce(producer, topic: Topics.activityDumps, values: repeats) {
                progress.show(8, "repeating \(plan.repeatedDumps) dumps \(plan.repeats)×: \($0) of \(repeats.count) sent")
            }
            let expected = d + repeats.count
            _ = try await stack.withBenchDatabase { client in
                try await PipelineBench.mergedDumpsRate(client, expected: expected, timeout: .seconds(120 + Double(repeats.count) / 20), services: running) {
                    progress.show(8, "repeats: \($0 - d) of \(repeats.count) merged")
                }
            }
            let after = try await stack.withBenchDatabase { try await PipelineBench.storage($0) }
            let growth = after.bytesPerNode / before.bytesPerNode - 1
            table.add(BenchRow("… after the same \(plan.repeatedDumps) dumps \(plan.repeats)× (\(BenchFormat.grouped(Double(after.nodes))) nodes)",
                               "\(BenchFormat.grouped(after.bytesPerNode)) B", comparedWith: "before: \(BenchFormat.grouped(before.bytesPerNode)) B",
                               ratio: String(format: "%+.1f %%", growth * 100), target: "± 5 %", met: abs(growth) <= 0.05 && after.nodes == before.nodes))

            // 9. Signals in; a plain passthrough moves them with the same Kafka layer.
            let s = fixtures.signalPayloads.count
            try await PipelineBench.produce(producer, topic: Topics.securitySignals, values: fixtures.signalPayloads) { progress.show(9, "producing signals: \($0) of \(s)") }
            let passthrough = try await PipelineBench.passthroughRate(stack.kafka, producer: producer, from: Topics.securitySignals,
                                                                      to: BenchStack.passthroughTopic, expected: s, timeout: .seconds(120)) {
                progress.show(9, "passthrough: \($0) of \(s) signals")
            }

            // 10. Enrichment of the backlog.
            let enriched = try KafkaConsumer(configuration: stack.kafka, groupID: "bench-enriched-\(UInt32.random(in: 0 ... .max))",
                                             topics: [Topics.securitySignalsEnriched], extraProperties: ["fetch.wait.max.ms": "5"],
                                             logger: cliLogger)
            consumers.append(enriched)
            let readWhileJoining = try await PipelineBench.joined(enriched)
            services.append(try stack.start("signal-enricher"))
            let enricher = services
            let enrichment = try await PipelineBench.outputRate(enriched, alreadyRead: readWhileJoining, expected: s, timeout: .seconds(120 + Double(s) / 200), services: enricher) {
                progress.show(10, "enrichment: \($0) of \(s) signals enriched")
            }
            let enrichRatio = enrichment / passthrough
            table.add(BenchRow("enrichment: security-signals → .enriched", BenchFormat.rate(enrichment, "signals"),
                               comparedWith: "passthrough \(BenchFormat.rate(passthrough, "msg"))", ratio: BenchFormat.percent(enrichRatio),
                               target: "≥ 70 %", met: enrichRatio >= 0.7))
            table.add(BenchRow("… core per signal in memory: parse + enrich + append",
                               "\(BenchFormat.duration(nanoseconds: enrichCost.parseNanoseconds)) + \(BenchFormat.duration(nanoseconds: enrichCost.enrichNanoseconds)) + \(BenchFormat.duration(nanoseconds: enrichCost.appendNanoseconds))",
                               comparedWith: "passthrough per msg \(BenchFormat.duration(nanoseconds: 1e9 / passthrough))",
                               ratio: BenchFormat.percent(enrichCost.totalNanoseconds / (1e9 / passthrough))))

            // 11. Latency at a fixed offered load.
            let steps = progress
            let latency = try await PipelineBench.latencies(producer: producer, enriched: enriched, signals: fixtures.signalPayloads,
                                                            perSecond: plan.latencyRate, seconds: plan.latencySeconds) { got, total in
                steps.show(11, "latency at \(plan.latencyRate) signals/s: \(got) of \(total) enriched")
            }
            // HdrHistogram of microseconds (3 significant digits): percentiles of the recorded values.
            let p50 = Double(latency.valueAtPercentile(50)) * 1000, p99 = Double(latency.valueAtPercentile(99)) * 1000
            let p999 = Double(latency.valueAtPercentile(99.9)) * 1000, maximum = Double(latency.max) * 1000
            table.add(BenchRow("latency in → enriched out at \(BenchFormat.grouped(Double(plan.latencyRate))) signals/s (p50 / p99 / p99.9 / max)",
                               [p50, p99, p999, maximum].map { BenchFormat.duration(nanoseconds: $0) }.joined(separator: " / "),
                               comparedWith: "10 ms", ratio: BenchFormat.percent(p99 / 1e7), target: "p99 < 10 ms", met: p99 < 1e7))
            for consumer in consumers { await consumer.close() }
            consumers.removeAll()
            for service in services.reversed() { await service.stop() }
            services.removeAll()

            // 12. Scale-out: two instances of each service beside one, and the partitions a fleet needs.
            let scaleOut = ScaleOutBench(stack: stack, progress: progress, step: 12)
            let figures = try await scaleOut.measure(fixtures, producer: producer)
            for row in figures.rows(fleet: fleet, instances: scaleOut.instances) { table.add(row) }
        } catch {
            for consumer in consumers { await consumer.close() }
            for service in services { await service.stop() }
            throw error
        }
        return table
    }
}
