import ArgumentParser
import BaselineCore
import Foundation

/// The bench's workload, from the fleet generator (`baseline generate`): realistic dumps of four
/// kinds of image (two tags each) whose event times end now, and signals about the same versions.
struct BenchFixtures: Sendable {
    /// Dumps as agents send them (Baseline JSON).
    let dumpPayloads: [[UInt8]]
    /// The same dumps decoded and normalised, as profile-merger receives them.
    let requests: [MergeRequest]
    let signalPayloads: [[UInt8]]
    /// The dumps of one container that the storage figure sends again.
    let repeated: [ActivityDump]
    let meanNodes: Int

    init(plan: BenchPlan) throws {
        var config = FleetConfiguration()
        config.tagsPerImage = 2
        config.replicasPerTag = 4
        let versions = config.images.count * config.tagsPerImage
        let containers = versions * config.replicasPerTag
        config.dumpsPerContainer = max(1, (plan.dumps + containers - 1) / containers)
        config.signalsPerKind = max(1, (plan.signals + versions * SignalKind.allCases.count - 1) / (versions * SignalKind.allCases.count))
        let now = Timestamps.nanoseconds(Date()) ?? 0
        config.startNanoseconds = now - config.spanNanoseconds - 60 * 1_000_000_000
        let fleet = FleetGenerator.generate(config)
        let dumps = Array(fleet.dumps.prefix(plan.dumps))

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        dumpPayloads = try dumps.map { Array(try encoder.encode($0)) }
        let decoder = DumpDecoder()
        requests = try dumpPayloads.map { bytes in
            do { return try decoder.decode(bytes, receivedAt: now) } catch { throw ValidationError("a generated dump was rejected: \((error as? Rejection)?.reason ?? "\(error)")") }
        }
        meanNodes = dumps.isEmpty ? 0 : dumps.reduce(0) { $0 + $1.nodeCount } / dumps.count
        let signals = fleet.signals.map(\.bytes)
        guard !signals.isEmpty, let first = dumps.first else { throw ValidationError("the fleet generator made no dumps or signals") }
        signalPayloads = (0..<plan.signals).map { signals[$0 % signals.count] }
        repeated = Array(dumps.filter { $0.workload.instanceID == first.workload.instanceID }.prefix(plan.repeatedDumps))
    }

    /// The repeated dumps, `times` over, each time with new dump ids (merged again, not skipped).
    func repeatPayloads(times: Int) -> [[UInt8]] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [[UInt8]] = []
        out.reserveCapacity(times * repeated.count)
        for r in 0..<times {
            for (i, dump) in repeated.enumerated() {
                var copy = dump
                copy.id = "bench-repeat-\(r)-\(i)"
                out.append(Array((try? encoder.encode(copy)) ?? Data()))
            }
        }
        return out
    }
}
