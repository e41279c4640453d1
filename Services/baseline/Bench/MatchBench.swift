import ArgumentParser
import BaselineCore
import Foundation

extension BenchCommand {
    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time signal matching against profiles of growing size (target: < 5 µs per match, flat up to 100k nodes).")
        @Option(help: "Profile sizes (nodes), comma-separated.") var sizes = "100,1000,10000,100000"
        @Option(help: "Matches per size.") var matches = 200_000

        func run() async throws {
            let parsed = sizes.split(separator: ",").compactMap { Int($0) }
            print("nodes      build_ms   ns/match (hit)   ns/match (miss)")
            for size in parsed {
                let (matcher, hits, misses) = Self.profile(nodes: size)
                let clock = ContinuousClock()
                let built = clock.now
                _ = ProfileMatcher(state: matcher.state)
                let buildMs = (clock.now - built).inSeconds * 1000
                var found = 0
                let t0 = clock.now
                for i in 0..<matches { if matcher.match(hits[i % hits.count]) != nil { found += 1 } }
                let hitNs = (clock.now - t0).inSeconds * 1e9 / Double(matches)
                let t1 = clock.now
                for i in 0..<matches { if matcher.match(misses[i % misses.count]) != nil { found += 1 } }
                let missNs = (clock.now - t1).inSeconds * 1e9 / Double(matches)
                precondition(found >= matches, "hits must match")
                print(String(format: "%-10d %-10.1f %-16.0f %.0f", size, buildMs, hitNs, missNs))
            }
        }

        /// A synthetic version: 100 processes, each with files, DNS names and binds up to `nodes`.
        static func profile(nodes: Int) -> (ProfileMatcher, [SignalActivity], [SignalActivity]) {
            var processes: [ProcessNode] = []
            let perProcess = max(1, nodes / 100)
            for p in 0..<100 {
                processes.append(ProcessNode(path: "/usr/bin/tool\(p)",
                                             files: (0..<perProcess).map { FileAccess(path: "/data/set\(p)/file\($0).bin") }))
            }
            var version = ProfileVersion(profileKey: "bench", imageTag: "1", miner: PatternMiner(threshold: Int.max))
            version.merge(ActivityDump(workload: Workload(imageName: "bench", containerID: "c"),
                                       processes: [ProcessNode(path: "/init", children: processes)]), at: 1)
            let matcher = ProfileMatcher(state: VersionState(version: version))
            func activity(_ p: Int, _ f: Int, miss: Bool) -> SignalActivity {
                let s = SecuritySignal(eventName: "open", processPath: "/usr/bin/tool\(p)", ancestorPaths: ["/init"],
                                       filePath: miss ? "/elsewhere/\(f)" : "/data/set\(p)/file\(f).bin")
                return SignalActivity(signal: s)!
            }
            let hits = (0..<1000).map { activity($0 % 100, ($0 * 7919) % perProcess, miss: false) }
            let misses = (0..<1000).map { activity($0 % 100, $0, miss: true) }
            return (matcher, hits, misses)
        }
    }
}
