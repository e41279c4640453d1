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
        // The generator's trees are small (about 50 nodes); agents' dumps of real services hold a
        // few hundred. Each process also loads its version's shared libraries, up to the size asked.
        let dumps = fleet.dumps.prefix(plan.dumps).map { Self.padded($0, to: plan.nodesPerDump) }

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

    /// The dump with shared-library opens added to its processes until it holds about `nodes`
    /// nodes. Their names have no digits (no pattern folds them) and depend only on the process's
    /// position in the tree, so every dump of a version opens the same ones.
    static func padded(_ dump: ActivityDump, to nodes: Int) -> ActivityDump {
        var processes = 0
        dump.forEachProcess { _, _ in processes += 1 }
        let missing = nodes - dump.nodeCount
        guard missing > 0, processes > 0 else { return dump }
        let perProcess = (missing + processes - 1) / processes
        var budget = missing
        var position = 0
        func pad(_ list: inout [ProcessNode]) {
            for i in list.indices {
                let n = min(perProcess, budget)
                list[i].files += (0..<n).map { FileAccess(path: "/usr/lib/x86_64-linux-gnu/lib\(letters(position))\(letters($0)).so") }
                budget -= n
                position += 1
                pad(&list[i].children)
            }
        }
        var copy = dump
        pad(&copy.processes)
        return copy
    }

    /// 0 → "a", 25 → "z", 26 → "ba": a name without digits.
    static func letters(_ n: Int) -> String {
        var n = n
        var out = ""
        repeat {
            out = String(UnicodeScalar(UInt8(97 + n % 26))) + out
            n /= 26
        } while n > 0
        return out
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
