import BaselineCore
import Benchmark
import Foundation
import Synchronization

/// The core's hot operations, each timed per operation with its allocations counted: matching a
/// signal against profiles of growing size, merging one 200-node dump into its version, decoding
/// an agent's dump, parsing and enriching one signal. The workloads are those of `baseline bench`
/// (the fleet generator's dumps padded to 200 nodes, its signals about the same versions). They
/// are built on first use (in the warm-up iterations), so listing or running one benchmark does
/// not build every other's.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds, warmupIterations: 10, maxDuration: .seconds(2), maxIterations: 1_000_000)

    // Matching: one signal's activity looked up in a profile, hits and misses.
    for nodes in [100, 1000, 10_000, 100_000] {
        Benchmark("match hit, \(nodes) nodes", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let profile = Workloads.match(nodes: nodes)
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations { blackHole(profile.matcher.match(profile.hits[i % profile.hits.count])) }
        }
        Benchmark("match miss, \(nodes) nodes", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let profile = Workloads.match(nodes: nodes)
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations { blackHole(profile.matcher.match(profile.misses[i % profile.misses.count])) }
        }
    }

    // Merge: one 200-node dump into its version, which already holds the earlier dumps of the
    // workload (the steady state of a merger: most nodes known, statistics updated).
    Benchmark("merge one 200-node dump") { benchmark in
        let merger = Workloads.merger
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(merger.mergeNext()) }
    }

    // dump-consumer's decode + normalise of one agent dump (Baseline JSON, 200 nodes).
    Benchmark("decode one 200-node dump") { benchmark in
        let fleet = Workloads.fleet, decoder = DumpDecoder()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try decoder.decode(fleet.dumpPayloads[i % fleet.dumpPayloads.count], receivedAt: 0))
        }
    }

    // signal-enricher's core per signal: parse, then enrich against the version's profile.
    Benchmark("signal parse", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let fleet = Workloads.fleet
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(try SecuritySignal.parse(fleet.signalPayloads[i % fleet.signalPayloads.count])) }
    }
    Benchmark("signal parse + enrich", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let fleet = Workloads.fleet, config = EnrichmentConfiguration(), index = SuppressionIndex()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let signal = try SecuritySignal.parse(fleet.signalPayloads[i % fleet.signalPayloads.count])
            let matcher = signal.workload.flatMap { fleet.matchers[$0.profileKey + "\n" + $0.imageTag] }
            blackHole(Enrichment.enrich(signal, workload: signal.workload, matcher: matcher, suppressions: index, config: config))
        }
    }
}

/// The workloads, each built once per process on first use.
enum Workloads {
    static let fleet = FleetWorkload()
    static let merger = SteadyMerger(fleet)
    private static let profiles = Mutex<[Int: MatchWorkload]>([:])

    static func match(nodes: Int) -> MatchWorkload {
        profiles.withLock { cache in
            if let built = cache[nodes] { return built }
            let built = MatchWorkload(nodes: nodes)
            cache[nodes] = built
            return built
        }
    }
}

/// The versions a merger holds, kept across the benchmark's iterations (each iteration merges the
/// next dump into them in place, as profile-merger does; a copy per iteration would time the copy).
final class SteadyMerger: @unchecked Sendable {
    private var states: [String: VersionState]
    private let requests: [MergeRequest]
    private let config = ModelConfiguration()
    private var next = 0

    init(_ fleet: FleetWorkload) {
        states = fleet.warmStates
        requests = fleet.requests
    }

    func mergeNext() -> Int {
        let request = requests[next % requests.count]
        next += 1
        let key = request.profileKey + "\n" + request.dump.workload.imageTag
        _ = ProfileMerge.apply(request, to: &states[key, default: FleetWorkload.emptyState(for: request, config)], config: config)
        return states[key]?.version.nodes.count ?? 0
    }
}
