import BaselineCore
import Foundation

/// A version of about `nodes` nodes (100 processes with files) and signal activities that hit it
/// and that miss it: the profiles of `baseline bench match`.
struct MatchWorkload: @unchecked Sendable {
    let matcher: ProfileMatcher
    let hits: [SignalActivity]
    let misses: [SignalActivity]

    init(nodes: Int) {
        let perProcess = max(1, nodes / 100)
        let processes = (0..<100).map { p in
            ProcessNode(path: "/usr/bin/tool\(p)", files: (0..<perProcess).map { FileAccess(path: "/data/set\(p)/file\($0).bin") })
        }
        var version = ProfileVersion(profileKey: "bench", imageTag: "1", miner: PatternMiner(threshold: Int.max))
        version.merge(ActivityDump(workload: Workload(imageName: "bench", containerID: "c"),
                                   processes: [ProcessNode(path: "/init", children: processes)]), at: 1)
        matcher = ProfileMatcher(state: VersionState(version: version))
        func activity(_ p: Int, _ f: Int, miss: Bool) -> SignalActivity {
            SignalActivity(signal: SecuritySignal(eventName: "open", processPath: "/usr/bin/tool\(p)", ancestorPaths: ["/init"],
                                                  filePath: miss ? "/elsewhere/\(f)" : "/data/set\(p)/file\(f).bin"))!
        }
        hits = (0..<1000).map { activity($0 % 100, ($0 * 7919) % perProcess, miss: false) }
        misses = (0..<1000).map { activity($0 % 100, $0, miss: true) }
        precondition(hits.allSatisfy { matcher.match($0) != nil } && misses.allSatisfy { matcher.match($0) == nil })
    }
}

/// The fleet generator's dumps (four kinds of image, two tags, four containers each) padded to 200
/// nodes, as agents send them and as profile-merger receives them, the versions merged from the
/// first half of them, and signals about the same versions.
struct FleetWorkload: @unchecked Sendable {
    let dumpPayloads: [[UInt8]]
    /// The second half of the dumps, decoded: what the merge benchmark merges into `warmStates`.
    let requests: [MergeRequest]
    let warmStates: [String: VersionState]
    let matchers: [String: ProfileMatcher]
    let signalPayloads: [[UInt8]]

    init(nodesPerDump: Int = 200) {
        var config = FleetConfiguration()
        config.tagsPerImage = 2
        config.replicasPerTag = 4
        config.dumpsPerContainer = 8
        config.signalsPerKind = 20
        let now = Timestamps.nanoseconds(Date()) ?? 0
        config.startNanoseconds = now - config.spanNanoseconds - 60 * 1_000_000_000
        let fleet = FleetGenerator.generate(config)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        dumpPayloads = fleet.dumps.map { Array(try! encoder.encode(Self.padded($0, to: nodesPerDump))) }
        let decoder = DumpDecoder()
        let all = dumpPayloads.map { try! decoder.decode($0, receivedAt: now) }
        let half = all.count / 2
        var states: [String: VersionState] = [:]
        let model = ModelConfiguration()
        for request in all {
            let key = request.profileKey + "\n" + request.dump.workload.imageTag
            _ = ProfileMerge.apply(request, to: &states[key, default: Self.emptyState(for: request, model)], config: model)
        }
        matchers = states.mapValues { ProfileMatcher(state: $0) }
        var warm: [String: VersionState] = [:]
        for request in all[..<half] {
            let key = request.profileKey + "\n" + request.dump.workload.imageTag
            _ = ProfileMerge.apply(request, to: &warm[key, default: Self.emptyState(for: request, model)], config: model)
        }
        warmStates = warm
        requests = Array(all[half...])
        signalPayloads = fleet.signals.map(\.bytes)
        precondition(!requests.isEmpty && !signalPayloads.isEmpty)
    }

    static func emptyState(for request: MergeRequest, _ model: ModelConfiguration) -> VersionState {
        VersionState(version: ProfileVersion(profileKey: request.profileKey, imageTag: request.dump.workload.imageTag, miner: model.miner))
    }

    /// The dump with shared-library opens added until it holds about `nodes` nodes (as `baseline
    /// bench` pads it: names without digits, the same ones for every dump of a version).
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

    static func letters(_ n: Int) -> String {
        var n = n
        var out = ""
        repeat {
            out = String(UnicodeScalar(UInt8(97 + n % 26))) + out
            n /= 26
        } while n > 0
        return out
    }
}
