import ArgumentParser
import BaselineCore
import Foundation

/// The pure core measured in memory: merge throughput, resident bytes of a large profile, match
/// cost. No I/O inside the timed parts.
enum CoreBench {
    struct MergeFigures: Sendable {
        var dumps: Int
        var nodes: Int
        var seconds: Double
        /// The merged versions, by profile key and image tag.
        var states: [String: VersionState]
        var dumpsPerSecond: Double { Double(dumps) / seconds }
        var nodesPerSecond: Double { Double(nodes) / seconds }
    }

    /// Merges decoded, normalised requests into their versions the way profile-merger's core does
    /// (`ProfileMerge.apply`: statistics, patterns, lifecycle, anomalies), with the default model.
    static func merge(_ requests: [MergeRequest]) -> MergeFigures {
        let config = ModelConfiguration()
        var states: [String: VersionState] = [:]
        let clock = ContinuousClock()
        let start = clock.now
        for request in requests {
            let key = versionKey(request.profileKey, request.dump.workload.imageTag)
            var state = states.removeValue(forKey: key)
                ?? VersionState(version: ProfileVersion(profileKey: request.profileKey, imageTag: request.dump.workload.imageTag,
                                                        miner: config.miner))
            _ = ProfileMerge.apply(request, to: &state, config: config)
            states[key] = state
        }
        let seconds = (clock.now - start).inSeconds
        return MergeFigures(dumps: requests.count, nodes: requests.reduce(0) { $0 + $1.dump.nodeCount }, seconds: seconds, states: states)
    }

    /// The per-dump work around the merge, in memory: dump-consumer's decode + normalise of the
    /// agent's JSON and its encoding of the merge request, then profile-merger's decoding of it.
    struct CodecCost: Sendable {
        var decodeNanoseconds: Double
        var encodeNanoseconds: Double
        var requestDecodeNanoseconds: Double
    }

    static func codecCost(_ payloads: [[UInt8]]) throws -> CodecCost {
        let decoder = DumpDecoder()
        let clock = ContinuousClock()
        let t0 = clock.now
        let requests = try payloads.map { bytes in
            do { return try decoder.decode(bytes, receivedAt: 0) } catch { throw ValidationError("rejected: \((error as? Rejection)?.reason ?? "\(error)")") }
        }
        let t1 = clock.now
        // As the services do it (WireCatalog.mergeRequests).
        let encoded = requests.map { $0.json() }
        let t2 = clock.now
        let decoded = try encoded.map { try MergeRequest.fromJSON($0) }
        let t3 = clock.now
        precondition(decoded.count == payloads.count)
        let n = Double(max(payloads.count, 1))
        return CodecCost(decodeNanoseconds: (t1 - t0).inSeconds * 1e9 / n, encodeNanoseconds: (t2 - t1).inSeconds * 1e9 / n,
                         requestDecodeNanoseconds: (t3 - t2).inSeconds * 1e9 / n)
    }

    static func versionKey(_ profileKey: String, _ imageTag: String) -> String { profileKey + "\n" + imageTag }

    /// Where an enriched signal's time goes in the core, per signal: parsing the JSON, enriching
    /// (workload, match, context, explanation), appending the `baseline` object.
    struct EnrichmentCost: Sendable {
        var signals: Int
        var parseNanoseconds: Double
        var enrichNanoseconds: Double
        var appendNanoseconds: Double
        var totalNanoseconds: Double { parseNanoseconds + enrichNanoseconds + appendNanoseconds }
    }

    static func enrichmentCost(_ payloads: [[UInt8]], states: [String: VersionState]) throws -> EnrichmentCost {
        let matchers = states.mapValues { ProfileMatcher(state: $0) }
        let clock = ContinuousClock()
        let t0 = clock.now
        let signals = try payloads.map { try SecuritySignal.parse($0) }
        let t1 = clock.now
        let config = EnrichmentConfiguration()
        let index = SuppressionIndex()
        let results = signals.map { signal in
            let matcher = signal.workload.flatMap { matchers[versionKey($0.profileKey, $0.imageTag)] }
            return Enrichment.enrich(signal, workload: signal.workload, matcher: matcher, suppressions: index, config: config)
        }
        let t2 = clock.now
        var bytes = 0
        for (payload, result) in zip(payloads, results) { bytes += try SecuritySignal.appendingBaseline(result.context, to: payload).count }
        let t3 = clock.now
        precondition(bytes > 0)
        let n = Double(max(payloads.count, 1))
        return EnrichmentCost(signals: payloads.count, parseNanoseconds: (t1 - t0).inSeconds * 1e9 / n,
                              enrichNanoseconds: (t2 - t1).inSeconds * 1e9 / n, appendNanoseconds: (t3 - t2).inSeconds * 1e9 / n)
    }

    /// Resident set size of this process (`/proc/self/statm`), in bytes.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    struct Residency: Sendable {
        var nodes: Int
        var bytes: Int
        var bytesPerNode: Double { Double(bytes) / Double(max(nodes, 1)) }
    }

    /// What a version of about `nodes` nodes (seen by 10 instances) adds to the resident set: the
    /// nodes with their statistics, the instance table and the pattern-candidate index, as the
    /// merger's and the enricher's caches hold it. The dump it is built from stays alive outside
    /// the measurement.
    static func residency(nodes: Int) -> Residency {
        let dump = syntheticDump(nodes: nodes)
        let instances = (0..<10).map { dump.with(instance: "bench-container-\($0)") }
        _ = releaseFreedMemory()  // what earlier work freed goes back first, so it is not reused unseen
        let before = residentBytes()
        var version = ProfileVersion(profileKey: "bench-resident", imageTag: "1", miner: PatternMiner(threshold: Int.max))
        for (i, d) in instances.enumerated() { version.merge(d, at: Int64(i + 1) * 1_000_000_000) }
        let matcher = ProfileMatcher(state: VersionState(version: version))
        _ = releaseFreedMemory()  // the merge's transient buffers are freed: count what the profile keeps
        let after = residentBytes()
        return withExtendedLifetime(matcher) { Residency(nodes: matcher.state.version.nodes.count, bytes: after - before) }
    }

    /// A dump of about `nodes` nodes with realistic paths: 3 levels of processes, each leaf opening
    /// files under its own package tree (distinct names; no pattern folds them).
    static func syntheticDump(nodes: Int) -> ActivityDump {
        let filesPerProcess = 99
        let processes = max(1, nodes / (filesPerProcess + 1))
        var workers: [ProcessNode] = []
        for p in 0..<processes {
            let files = (0..<filesPerProcess).map { f in
                FileAccess(path: "/usr/lib/python3.11/site-packages/vendor\(p % 37)/package\(p)/module_\(String(f, radix: 36))_impl.py")
            }
            workers.append(ProcessNode(path: "/usr/local/bin/worker-\(p)", files: files))
        }
        let root = ProcessNode(path: "/usr/bin/tini", children: [ProcessNode(path: "/usr/local/bin/supervisor", children: workers)])
        return ActivityDump(workload: Workload(imageName: "bench-resident", containerID: "c"), processes: [root])
    }

    struct MatchCost: Sendable {
        var nodes: Int
        var hitNanoseconds: Double
        var missNanoseconds: Double
    }

    /// ns per match, hits and misses, against `BenchCommand.Match.profile(nodes:)`.
    static func matchCost(nodes: Int, matches: Int) -> MatchCost {
        let (matcher, hits, misses) = BenchCommand.Match.profile(nodes: nodes)
        let clock = ContinuousClock()
        var found = 0
        let t0 = clock.now
        for i in 0..<matches { if matcher.match(hits[i % hits.count]) != nil { found += 1 } }
        let hitNs = (clock.now - t0).inSeconds * 1e9 / Double(matches)
        let t1 = clock.now
        for i in 0..<matches { if matcher.match(misses[i % misses.count]) != nil { found += 1 } }
        let missNs = (clock.now - t1).inSeconds * 1e9 / Double(matches)
        precondition(found == matches, "every hit and no miss must match")
        return MatchCost(nodes: matcher.state.version.nodes.count, hitNanoseconds: hitNs, missNanoseconds: missNs)
    }
}

extension ActivityDump {
    /// The same activity reported by another container.
    func with(instance: String) -> ActivityDump {
        var copy = self
        copy.workload.containerID = instance
        return copy
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// glibc's `malloc_trim(0)` (malloc.h is not in the Glibc module): returns freed heap pages to the
/// kernel, so the resident size counts what is still allocated.
@_silgen_name("malloc_trim")
func releaseFreedMemory(_ pad: Int = 0) -> Int32
