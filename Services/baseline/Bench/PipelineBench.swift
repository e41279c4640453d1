import ArgumentParser
import BaselineKafka
import BaselineWire
import Foundation
import Histogram
import PostgresNIO

/// Rates through the real broker, services and database. Every rate is taken over the steady part
/// of a backlog, so start-up (process launch, group join) counts for no one: the bench's own
/// consumers from the moment they hold their partitions; the services, which the bench cannot see
/// join, from the first time their output is seen, less what that first sighting already held.
enum PipelineBench {
    /// A rate measured as messages done over time, with the count at the first sighting left out.
    struct SteadyRate: Sendable {
        private(set) var first: (count: Int, at: ContinuousClock.Instant)?
        private(set) var last: (count: Int, at: ContinuousClock.Instant)?
        /// When the work could begin (the services were started): the fallback start when the
        /// first sighting already held everything, as a small backlog on a loaded machine can.
        let origin = ContinuousClock.now

        /// Starts the clock at zero done (a consumer that just got its partitions), so a backlog
        /// read in one poll still has a rate.
        mutating func start() { if first == nil { first = (0, ContinuousClock.now) } }

        mutating func observe(_ count: Int) {
            let now = ContinuousClock.now
            if first == nil, count > 0 { first = (count, now) }
            if let f = first, count > f.count { last = (count, now) }
        }

        /// Over the steady part; when none was seen, all of it since `origin` (start-up
        /// included, so a lower bound).
        var perSecond: Double {
            if let f = first, let l = last, l.at > f.at { return Double(l.count - f.count) / (l.at - f.at).inSeconds }
            guard let f = first, f.count > 0, f.at > origin else { return .nan }
            return Double(f.count) / (f.at - origin).inSeconds
        }
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Produces values (and keys) to a topic, 1,000 at a time, waiting for every acknowledgement.
    static func produce(_ producer: KafkaProducer, topic: String, values: [[UInt8]], keys: [[UInt8]?]? = nil,
                        progress: (Int) -> Void) async throws {
        var sent = 0
        while sent < values.count {
            let end = min(sent + 1000, values.count)
            _ = try await producer.sendAll((sent..<end).map { KafkaRecord(topic: topic, key: keys?[$0], value: values[$0]) })
            sent = end
            progress(sent)
        }
    }

    /// A plain consumer's rate: reads `expected` messages of `topic` (a fresh group, from the
    /// start) in batches of 500, as the services do, and does nothing with them.
    static func plainConsumerRate(_ kafka: KafkaConfiguration, topic: String, expected: Int, timeout: Duration,
                                  progress: (Int) -> Void) async throws -> Double {
        try await consumingRate(kafka, group: "bench-plain", topic: topic, expected: expected, timeout: timeout,
                                what: "plain consumer read", progress: progress) { _, _ in }
    }

    /// A plain consume → produce passthrough with the same Kafka layer the enricher uses: per batch
    /// of 500, produce each value unchanged, wait for the acknowledgements, commit.
    static func passthroughRate(_ kafka: KafkaConfiguration, producer: KafkaProducer, from: String, to: String, expected: Int,
                                timeout: Duration, progress: (Int) -> Void) async throws -> Double {
        try await consumingRate(kafka, group: "bench-passthrough", topic: from, expected: expected, timeout: timeout,
                                what: "passthrough moved", progress: progress) { consumer, batch in
            _ = try await producer.sendAll(batch.map { KafkaRecord(topic: to, key: $0.key, value: $0.value, headers: $0.headers) })
            try await consumer.commit(after: batch)
        }
    }

    /// Reads `expected` messages of `topic` with a fresh group in batches of 500, `handle`s each
    /// non-empty batch, and returns the steady rate (from the moment the partitions are held).
    static func consumingRate(_ kafka: KafkaConfiguration, group: String, topic: String, expected: Int, timeout: Duration,
                              what: String, progress: (Int) -> Void,
                              handle: (KafkaConsumer, [KafkaMessage]) async throws -> Void) async throws -> Double {
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "\(group)-\(UInt32.random(in: 0 ... .max))",
                                         topics: [topic], logger: cliLogger)
        var rate = SteadyRate()
        var count = 0
        let deadline = ContinuousClock.now + timeout
        do {
            while count < expected {
                guard ContinuousClock.now < deadline else { throw Timeout(description: "\(what) \(count) of \(expected) messages of \(topic)") }
                if consumer.hasAssignment { rate.start() }
                let batch = try await consumer.poll(maxMessages: 500, maxWaitMs: 100)
                if batch.isEmpty { continue }
                try await handle(consumer, batch)
                count += batch.count
                rate.observe(count)
                progress(count)
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return rate.perSecond
    }

    /// Polls `SELECT count(*) FROM merged_dumps` until it reaches `expected`; the rate of its
    /// growth. The table appears once profile-merger has migrated the fresh database.
    static func mergedDumpsRate(_ client: PostgresClient, expected: Int, timeout: Duration, services: [ServiceProcess],
                                progress: (Int) -> Void) async throws -> Double {
        var rate = SteadyRate()
        let deadline = ContinuousClock.now + timeout
        var count = 0
        while count < expected {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "\(count) of \(expected) dumps merged") }
            for s in services where !s.isRunning { throw Timeout(description: "\(s.name) stopped; its log ends:\n\(s.logTail())") }
            count = (try? await mergedDumps(client)) ?? 0
            rate.observe(count)
            progress(count)
            if count < expected { try await Task.sleep(for: .milliseconds(20)) }
        }
        return rate.perSecond
    }

    static func mergedDumps(_ client: PostgresClient) async throws -> Int {
        for try await n in try await client.query("SELECT count(*)::int8 FROM merged_dumps", logger: cliLogger).decode(Int64.self) {
            return Int(n)
        }
        return 0
    }

    struct StorageFigures: Sendable {
        var nodes: Int
        var tableBytes: Int
        var indexBytes: Int
        /// The rows' own bytes (no page, tuple header or free space).
        var liveRowBytes: Int
        var totalBytes: Int { tableBytes + indexBytes }
        var bytesPerNode: Double { Double(totalBytes) / Double(max(nodes, 1)) }
    }

    /// `profile_nodes` on disk (heap with TOAST, indexes) after a VACUUM, per row (one row per
    /// distinct node of a version).
    static func storage(_ client: PostgresClient) async throws -> StorageFigures {
        try await client.query("VACUUM (ANALYZE) profile_nodes", logger: cliLogger)
        for try await (rows, table, indexes, live) in try await client.query("""
            SELECT (SELECT count(*) FROM profile_nodes)::int8, pg_table_size('profile_nodes')::int8, pg_indexes_size('profile_nodes')::int8,
                   (SELECT coalesce(sum(pg_column_size(n.*)), 0) FROM profile_nodes n)::int8
            """, logger: cliLogger).decode((Int64, Int64, Int64, Int64).self) {
            return StorageFigures(nodes: Int(rows), tableBytes: Int(table), indexBytes: Int(indexes), liveRowBytes: Int(live))
        }
        throw Timeout(description: "no answer about profile_nodes")
    }

    /// Per-signal latency at a fixed offered load: `perSecond` signals a second for `seconds`, in
    /// ticks of 10 ms, each keyed with its send time; `enriched` (already reading the enriched
    /// topic) receives them. Send (the record's creation) → received enriched, in microseconds, in an
    /// HdrHistogram (3 significant digits up to an hour: a constant footprint, no sorting).
    static func latencies(producer: KafkaProducer, enriched: KafkaConsumer, signals: [[UInt8]], perSecond: Int, seconds: Double,
                          progress: @escaping @Sendable (Int, Int) -> Void) async throws -> Histogram<UInt64> {
        let total = Int(Double(perSecond) * seconds)
        let perTick = max(1, perSecond / 100)
        return try await withThrowingTaskGroup(of: Histogram<UInt64>?.self) { group in
            group.addTask {
                let start = ContinuousClock.now
                var sent = 0
                var tick = 0
                try await withThrowingTaskGroup(of: Void.self) { sends in
                    while sent < total {
                        try await Task.sleep(until: start + .milliseconds(10 * tick), clock: .continuous)
                        let n = min(perTick, total - sent)
                        let records = (sent..<(sent + n)).map { i in
                            KafkaRecord(topic: Topics.securitySignals, key: Array("lat:\(DispatchTime.now().uptimeNanoseconds)".utf8),
                                        value: signals[i % signals.count])
                        }
                        sends.addTask { _ = try await producer.sendAll(records) }
                        sent += n
                        tick += 1
                    }
                    try await sends.waitForAll()
                }
                return nil
            }
            group.addTask {
                var latencies = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
                let deadline = ContinuousClock.now + .seconds(seconds + 60)
                while latencies.totalCount < UInt64(total) {
                    guard ContinuousClock.now < deadline else {
                        throw Timeout(description: "\(latencies.totalCount) of \(total) paced signals came out enriched")
                    }
                    for m in try await enriched.poll(maxMessages: 500, maxWaitMs: 50) {
                        let now = DispatchTime.now().uptimeNanoseconds
                        guard let key = m.keyString, key.hasPrefix("lat:"), let sent = UInt64(key.dropFirst(4)) else { continue }
                        // Beyond an hour counts as an hour (the run's deadline ends it long before).
                        _ = latencies.record(min((now >= sent ? now - sent : 0) / 1000, 3_600_000_000))
                    }
                    progress(Int(latencies.totalCount), total)
                }
                return latencies
            }
            var result: Histogram<UInt64>?
            while let r = try await group.next() { if let r { result = r } }
            guard let result else { throw Timeout(description: "no latencies recorded") }
            return result
        }
    }

    /// Polls a newly subscribed consumer until it holds its partitions (at most `timeout`); the
    /// messages it read meanwhile. Called before the service whose output it counts starts: a
    /// consumer still joining its group when the output begins would first see a large part of it
    /// at once, and the rate from that first sighting would mean nothing.
    static func joined(_ consumer: KafkaConsumer, timeout: Duration = .seconds(30)) async throws -> Int {
        var read = 0
        let deadline = ContinuousClock.now + timeout
        while !consumer.hasAssignment && ContinuousClock.now < deadline {
            read += try await consumer.poll(maxMessages: 500, maxWaitMs: 100).count
        }
        return read
    }

    /// Counts messages of an already subscribed consumer until `expected` (`alreadyRead` of them
    /// read before); their steady rate.
    static func outputRate(_ consumer: KafkaConsumer, alreadyRead: Int = 0, expected: Int, timeout: Duration, services: [ServiceProcess],
                           progress: (Int) -> Void) async throws -> Double {
        var rate = SteadyRate()
        var count = alreadyRead
        let deadline = ContinuousClock.now + timeout
        while count < expected {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "\(count) of \(expected) signals came out enriched") }
            for s in services where !s.isRunning { throw Timeout(description: "\(s.name) stopped; its log ends:\n\(s.logTail())") }
            count += try await consumer.poll(maxMessages: 500, maxWaitMs: 100).count
            rate.observe(count)
            progress(count)
        }
        return rate.perSecond
    }
}
