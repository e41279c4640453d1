import ArgumentParser
import BaselineCore
import Foundation

/// How the core's cost grows: each dimension (dumps, nodes per dump, profiles, instances, signals)
/// grows 10× twice while the others stay at a base. Each point runs in a child process of its own,
/// so its resident size starts clean.
extension BenchCommand {
    struct Growth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How merge and enrichment throughput and memory grow with dumps, nodes per dump, profiles, instances and signals (in memory).")
        @Flag(help: "Smaller points (smoke test).") var quick = false

        func run() async throws {
            let base = GrowthPoint(dumps: quick ? 100 : 1000, nodesPerDump: 200, profiles: 10, instances: 10, signals: 0)
            var points: [(String, GrowthPoint)] = []
            let scale = quick ? [1, 10] : [1, 10, 100]
            for s in scale { var p = base; p.dumps = base.dumps * s / (quick ? 1 : 10); points.append(("dumps", p)) }
            for s in scale { var p = base; p.nodesPerDump = 20 * s; points.append(("nodes per dump", p)) }
            for s in scale { var p = base; p.profiles = s; p.dumps = max(base.dumps, s * 10); points.append(("profiles", p)) }
            for s in scale { var p = base; p.instances = s; p.dumps = max(base.dumps, s); points.append(("instances", p)) }
            for s in scale { var p = base; p.signals = 1000 * s; points.append(("signals", p)) }
            print("| grows | dumps | nodes/dump | profiles | instances | signals | profile nodes | merge dumps/s | merge nodes/s | enrich signals/s | resident |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for (n, (dimension, point)) in points.enumerated() {
                FileHandle.standardError.write(Data("\r\u{1B}[K[\(n + 1)/\(points.count)] \(dimension): \(point.arguments.joined(separator: " "))".utf8))
                let r = try Self.runPoint(point)
                print("| \(dimension) | \(point.dumps) | \(point.nodesPerDump) | \(point.profiles) | \(point.instances) | \(point.signals) | "
                      + "\(BenchFormat.grouped(Double(r.profileNodes))) | \(BenchFormat.grouped(r.dumpsPerSecond)) | \(BenchFormat.grouped(r.nodesPerSecond)) | "
                      + "\(point.signals > 0 ? BenchFormat.grouped(r.signalsPerSecond) : "–") | \(BenchFormat.bytes(Double(r.residentBytes))) |")
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }

        static func runPoint(_ point: GrowthPoint) throws -> GrowthResult {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServiceProcess.ownBinDirectory + "/baseline")
            process.arguments = ["bench", "growth-point"] + point.arguments
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ValidationError("growth point \(point.arguments) failed") }
            return try JSONDecoder().decode(GrowthResult.self, from: data)
        }
    }

    /// One point of the growth table, measured in this process (run by `growth`).
    struct GrowthPointCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "growth-point", abstract: "One point of `bench growth` (JSON out).",
                                                        shouldDisplay: false)
        @Option var dumps: Int
        @Option var nodes: Int
        @Option var profiles: Int
        @Option var instances: Int
        @Option var signals: Int

        func run() async throws {
            let point = GrowthPoint(dumps: dumps, nodesPerDump: nodes, profiles: profiles, instances: instances, signals: signals)
            let result = try point.measure()
            print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
        }
    }
}

struct GrowthPoint: Sendable {
    var dumps: Int
    var nodesPerDump: Int
    var profiles: Int
    var instances: Int
    var signals: Int

    var arguments: [String] {
        ["--dumps", "\(dumps)", "--nodes", "\(nodesPerDump)", "--profiles", "\(profiles)", "--instances", "\(instances)", "--signals", "\(signals)"]
    }

    /// Dump `d` of the workload: its version's common tree (`nodesPerDump` − 2 nodes) plus two
    /// files of its own (rare behaviour; temp names of one shape, so patterns get mined too).
    func dump(_ d: Int, start: Int64) -> ActivityDump {
        let version = d % profiles
        let instance = (d / profiles) % instances
        let perProcess = 19
        let processes = max(1, (nodesPerDump - 2) / (perProcess + 1))
        var children: [ProcessNode] = []
        for p in 0..<processes {
            var files = (0..<perProcess).map { FileAccess(path: "/srv/app\(version)/lib/mod\(p)/part_\(String($0, radix: 36)).so") }
            if p == 0 { files += [FileAccess(path: "/tmp/job-\(d)-a.tmp"), FileAccess(path: "/var/cache/app/entry-\(d).bin")] }
            children.append(ProcessNode(path: "/srv/app\(version)/bin/worker\(p)", files: files))
        }
        var dump = ActivityDump(id: "growth-\(d)", workload: Workload(imageName: "growth-\(version)", imageTag: "1", containerID: "c\(version)-\(instance)"),
                                processes: [ProcessNode(path: "/usr/bin/tini", children: children)])
        dump.start = start + Int64(d) * 1_000_000_000
        dump.end = dump.start
        return dump
    }

    func measure() throws -> GrowthResult {
        let config = ModelConfiguration()
        let start = (Timestamps.nanoseconds(Date()) ?? 0) - Int64(dumps + 10) * 1_000_000_000
        var states: [String: VersionState] = [:]
        _ = releaseFreedMemory()
        let before = CoreBench.residentBytes()
        var mergeTime = Duration.zero
        var nodes = 0
        let clock = ContinuousClock()
        for d in 0..<dumps {
            let dump = dump(d, start: start)
            nodes += dump.nodeCount
            let request = MergeRequest(dumpID: dump.id ?? "", sourceFormat: "bench", receivedAt: dump.end ?? 0, dump: dump)
            let key = dump.workload.profileKey
            let t0 = clock.now
            var state = states.removeValue(forKey: key)
                ?? VersionState(version: ProfileVersion(profileKey: key, imageTag: "1", miner: config.miner))
            _ = ProfileMerge.apply(request, to: &state, config: config)
            states[key] = state
            mergeTime += clock.now - t0
        }
        _ = releaseFreedMemory()  // the dumps and the merge's buffers are gone: what the profiles keep
        let resident = CoreBench.residentBytes() - before
        var signalsPerSecond = 0.0
        if signals > 0 {
            let payloads = (0..<min(signals, 1000)).map { i in signal(i, states: states) }
            let matchers = states.mapValues { ProfileMatcher(state: $0) }
            let index = SuppressionIndex()
            let enrichment = EnrichmentConfiguration()
            let t0 = clock.now
            var bytes = 0
            for i in 0..<signals {
                let payload = payloads[i % payloads.count]
                let signal = try SecuritySignal.parse(payload)
                let matcher = signal.workload.flatMap { matchers[$0.profileKey] }
                let result = Enrichment.enrich(signal, workload: signal.workload, matcher: matcher, suppressions: index, config: enrichment)
                bytes += try SecuritySignal.appendingBaseline(result.context, to: payload).count
            }
            signalsPerSecond = Double(signals) / (clock.now - t0).inSeconds
            precondition(bytes > 0)
        }
        return GrowthResult(profileNodes: states.values.reduce(0) { $0 + $1.version.nodes.count },
                            dumpsPerSecond: Double(dumps) / mergeTime.inSeconds, nodesPerSecond: Double(nodes) / mergeTime.inSeconds,
                            signalsPerSecond: signalsPerSecond, residentBytes: resident)
    }

    /// An open signal of a process of version `i % profiles`: known files and unknown ones.
    func signal(_ i: Int, states: [String: VersionState]) -> [UInt8] {
        let version = i % profiles
        let p = i % max(1, (nodesPerDump - 2) / 20)
        let file = i % 3 == 0 ? "/etc/shadow" : "/srv/app\(version)/lib/mod\(p)/part_\(String(i % 19, radix: 36)).so"
        let json = """
            {"agent":{"rule_id":"bench-rule"},"evt":{"name":"open"},"date":\(Int64(Date().timeIntervalSince1970 * 1000)),\
            "process":{"pid":\(100 + p),"executable":{"path":"/srv/app\(version)/bin/worker\(p)"},"container":{"id":"c\(version)-0"},\
            "ancestors":[{"pid":1,"executable":{"path":"/usr/bin/tini"},"container":{"id":"c\(version)-0"}}]},\
            "file":{"path":"\(file)"},"container":{"id":"c\(version)-0"},\
            "tags":["image_name:growth-\(version)","image_tag:1","container_id:c\(version)-0"]}
            """
        return Array(json.utf8)
    }
}

struct GrowthResult: Codable, Sendable {
    var profileNodes: Int
    var dumpsPerSecond: Double
    var nodesPerSecond: Double
    var signalsPerSecond: Double
    var residentBytes: Int
}
