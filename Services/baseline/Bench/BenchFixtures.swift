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

    /// `partitions`: of profile-merge-requests; the image names are chosen so that the profile keys
    /// (the merge requests' keys) land on as many partitions as there are images, so every merger of
    /// a scaled run has work.
    init(plan: BenchPlan, partitions: Int = 4) throws {
        var config = FleetConfiguration()
        config.imageNamePrefix = Self.prefixSpreading(config, over: partitions)
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

    /// A prefix of the image names whose profile keys (the image names) land on distinct partitions
    /// under librdkafka's default partitioner (CRC-32 of the key), as many as there can be.
    static func prefixSpreading(_ config: FleetConfiguration, over partitions: Int) -> String {
        var probe = config
        (probe.imageNamePrefix, probe.tagsPerImage, probe.replicasPerTag, probe.dumpsPerContainer, probe.signalsPerKind) = ("", 1, 1, 1, 0)
        let names = Set(FleetGenerator.generate(probe).summary.versions.map(\.imageName))
        let wanted = min(max(partitions, 1), names.count)
        for attempt in 0..<10_000 {
            let prefix = "bench\(attempt)-"
            let used = Set(names.map { CRC32.checksum(Array((prefix + $0).utf8)) % UInt32(max(partitions, 1)) })
            if used.count == wanted { return prefix }
        }
        return config.imageNamePrefix
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

/// CRC-32 (IEEE), the hash librdkafka's default partitioner takes of a key.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { table[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
    }
}
