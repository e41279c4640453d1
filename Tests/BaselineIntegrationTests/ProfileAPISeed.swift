import BaselineCore
import BaselinePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// Profile data for the API and page tests, written through the real write paths without Kafka:
/// dumps merged by `ProfileMerge.apply` and stored by `ProfileStore.write` (what profile-merger
/// does with a batch), then signals enriched by `Enrichment.enrich` against the version read back
/// by `SuppressionStore.loadVersion`, their suggestion recorded by `SuppressionStore.record` and
/// their aggregates by `SignalAggregateStore.record` (what signal-enricher does).
///
/// The image name holds `/` (path encoding) and one process path holds markup (the page must show
/// it as text). Names are unique per run.
struct ProfileAPISeed: Sendable {
    let image: String
    let tag = "v1"
    let rule: String
    /// The process tree's keys, root first.
    let rootKey: String
    let nginxKey: String
    let shellKey: String
    let markupKey: String
    /// A pending anomaly, and one whose id is longer than 255 bytes (a deep lineage).
    let anomalyID: String
    let longAnomalyID: String
    /// The suggestion made for the signal that matched known behaviour.
    let suggestionID: String
    let instances = 5

    static let second: Int64 = 1_000_000_000
    static let markupProcess = "/opt/<img src=x onerror=alert(1)>"

    /// A process's lineage element, as the key builder makes it.
    static func element(_ path: String) -> String { NodeIdentity.process(path: path, argv0: nil, args: [], differentiateArgs: false) }
    static let nginx = element("/usr/sbin/nginx")

    init() {
        let run = UInt32.random(in: 0 ... .max)
        image = "registry.test/team-\(run)/web"
        rule = "rule-\(run)"
        rootKey = Self.element("/usr/bin/entry")
        nginxKey = rootKey + " > " + Self.nginx
        shellKey = nginxKey + " > " + Self.element("/bin/sh")
        markupKey = rootKey + " > " + Self.element(Self.markupProcess)
        let deep = (0..<12).map { Self.element("/usr/lib/worker/stage-\($0)-" + String(repeating: "x", count: 12)) }
        longAnomalyID = Anomaly(profileKey: image, imageTag: tag,
                                node: .process(lineage: [rootKey] + deep), dumpID: "\(image)-late-deep", instanceID: "\(image)-i0", at: 0).id
        anomalyID = Anomaly(profileKey: image, imageTag: tag, node: .file(lineage: [rootKey, Self.nginx], path: "/etc/shadow"),
                            dumpID: "\(image)-late", instanceID: "\(image)-i1", at: 0).id
        suggestionID = SuppressionSuggestion.id(ruleID: rule, profileKey: image,
                                                node: .file(lineage: [rootKey, Self.nginx], path: "/etc/nginx/nginx.conf"))
    }

    var model: ModelConfiguration {
        var m = ModelConfiguration()
        m.lifecycle.minDumps = 8
        m.lifecycle.minInstances = 3
        m.lifecycle.maxNovelty = 0.5
        m.lifecycle.minQuietPeriod = 30 * 60 * Self.second
        m.warmupPeriod = 60 * Self.second
        return m
    }

    func time(minute: Int64) -> Int64 { 1_764_400_000 * Self.second + minute * 60 * Self.second }

    /// One dump of instance `n % instances`: every instance runs entry and nginx; a shell under
    /// nginx on two of five, curl under it on one, logrotate on four, the markup process on one.
    func dump(_ n: Int, minute: Int64, extra: [ProcessNode] = [], nginxFiles: [String] = [], id: String? = nil) -> MergeRequest {
        let i = n % instances
        var shell = ProcessNode(path: "/bin/sh", files: [FileAccess(path: "/etc/profile")])
        if i == 0 { shell.children = [ProcessNode(path: "/usr/bin/curl", dns: [DNSRequest(name: "api.internal", type: "A")])] }
        let nginx = ProcessNode(path: "/usr/sbin/nginx",
                                files: (["/etc/nginx/nginx.conf", "/var/log/nginx/access.log"] + nginxFiles).map { FileAccess(path: $0) },
                                binds: [SocketBind(port: 80)], syscalls: ["accept4", "epoll_wait"], children: i < 2 ? [shell] : [])
        var children = [nginx]
        if i < 4 { children.append(ProcessNode(path: "/usr/sbin/logrotate", files: [FileAccess(path: "/var/log/nginx/access.log")])) }
        if i == 3 { children.append(ProcessNode(path: Self.markupProcess, files: [FileAccess(path: "/tmp/<script>alert(1)</script>")])) }
        let start = time(minute: minute)
        let dumpID = id ?? "\(image)-d\(n)"
        let workload = Workload(imageName: image, imageTag: tag, service: "web", containerID: "\(image)-i\(i)", host: "host-\(i % 2)",
                                cluster: "test", namespace: "prod")
        let dump = ActivityDump(id: dumpID, workload: workload, start: start, end: start + 30 * Self.second,
                                processes: [ProcessNode(path: "/usr/bin/entry", children: children + extra)])
        return MergeRequest(dumpID: dumpID, sourceFormat: "baseline-json", receivedAt: start, dump: dump)
    }

    /// Merges 15 dumps (the version turns stable), then two with new behaviour (anomalies), and
    /// records the signals.
    func write(_ client: PostgresClient, logger: Logger = TestStack.logger) async throws {
        try await Migrator().migrate(client, logger: logger)
        var requests = (0..<15).map { dump($0, minute: Int64($0) * 20) }
        let deep = (0..<12).reversed().reduce(nil as ProcessNode?) { child, n in
            ProcessNode(path: "/usr/lib/worker/stage-\(n)-" + String(repeating: "x", count: 12), children: child.map { [$0] } ?? [])
        }!
        requests.append(dump(16, minute: 15 * 20 + 600, nginxFiles: ["/etc/shadow"], id: "\(image)-late"))
        requests.append(dump(15, minute: 15 * 20 + 620, extra: [deep], id: "\(image)-late-deep"))
        // As profile-merger's batches: the first five dumps one per transaction (the commonality
        // moves as instances join), the next ten in one transaction (their history entries share
        // one time), then one per transaction again.
        var n = 0
        for size in [1, 1, 1, 1, 1, 10, 1, 1] {
            try await merge(Array(requests[n..<(n + size)]), offset: n, client: client, logger: logger)
            n += size
        }
        try await recordSignals(client, logger: logger)
    }

    /// As profile-merger: apply each dump to the version in memory, then write the batch.
    /// `offset`: the first request's position on the (imaginary) merge-request partition.
    func merge(_ requests: [MergeRequest], offset: Int, client: PostgresClient, logger: Logger) async throws {
        let model = self.model
        let topic = "seed-" + image
        try await client.withTransaction(logger: logger) { conn in
            var state = try await ProfileStore.loadVersion(profileKey: image, imageTag: tag, miner: model.miner, conn: conn, logger: logger)
                ?? VersionState(version: ProfileVersion(profileKey: image, imageTag: tag, miner: model.miner))
            var batch = ProfileBatch()
            var touched = ProfileBatch.TouchedVersion(state: state, touched: [], removed: [], instances: [])
            for (n, request) in requests.enumerated() {
                let r = ProfileMerge.apply(request, to: &state, config: model)
                touched.touched.formUnion(r.outcome.touched)
                touched.touched.subtract(r.outcome.removed)
                touched.removed.formUnion(r.outcome.removed)
                touched.instances.insert(r.outcome.instance)
                batch.dumps.append(MergedDumpRow(request: request, sourceTopic: topic, sourcePartition: 0, sourceOffset: Int64(offset + n),
                                                 newNodes: r.outcome.learned.count, warmingUp: r.warmingUp))
                batch.transitions += r.transitions.map { ($0, image, tag, request.dumpID) }
                batch.anomalies += r.anomalies
            }
            touched.state = state
            batch.versions = [touched]
            _ = try await ProfileStore.write(batch, group: "seed-" + image, lifecycle: model.lifecycle, conn: conn, logger: logger)
        }
    }

    /// As signal-enricher: enrich two signals against the stored version; record the suggestion
    /// and the per-(rule, node) aggregates with the last enrichment.
    func recordSignals(_ client: PostgresClient, logger: Logger) async throws {
        guard let state = try await SuppressionStore(client: client).loadVersion(profileKey: image, imageTag: tag, miner: model.miner,
                                                                                  logger: logger) else {
            throw SeedFailure(description: "the seeded version \(image):\(tag) was not stored")
        }
        #expect(state.overallState == .stable, "the seeded version should be stable (15 quiet dumps), is \(state.overallState)")
        let container = "\(image)-i0"
        func signal(_ file: String) -> SecuritySignal {
            SecuritySignal(ruleID: rule, eventName: "open", processPath: "/usr/sbin/nginx",
                           ancestors: [SignalProcess(path: "/usr/bin/entry", containerID: container), SignalProcess(path: "/usr/bin/containerd-shim")],
                           filePath: file, containerID: container, workload: Workload(imageName: image, imageTag: tag, containerID: container))
        }
        let known = signal("/etc/nginx/nginx.conf"), unknown = signal("/root/.ssh/id_rsa")
        var tallies: [SignalTally.Key: SignalTally] = [:]
        for (signal, count) in [(known, 3), (unknown, 1)] {
            let result = Enrichment.enrich(signal, workload: signal.workload, matcher: ProfileMatcher(state: state),
                                           suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
            if let suggestion = result.suggestion { _ = try await SuppressionStore(client: client).record(suggestion) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let at = Date(timeIntervalSince1970: Double(time(minute: 15 * 20 + 700)) / 1e9)
            var tally = SignalTally(match: result.context.match ?? "none", firstSeen: at, lastSeen: at,
                                    lastEnrichment: String(decoding: try encoder.encode(result.context), as: UTF8.self))
            tally.signals = Int64(count)
            tally.anomalous = result.context.anomaly ? Int64(count) : 0
            tally.suggestionID = result.suggestion?.suggestionID
            let node = ProfileNodeKey.file(lineage: [rootKey, Self.nginx], path: signal.filePath!).value
            tallies[SignalTally.Key(profileKey: image, imageTag: tag, ruleID: rule, eventType: "file", nodeKey: node)] = tally
        }
        try await SignalAggregateStore(client: client, logger: logger).record(tallies)
        // A second suggestion (another rule on the same node), to dismiss.
        var other = Enrichment.enrich(known, workload: known.workload, matcher: ProfileMatcher(state: state), suppressions: SuppressionIndex(),
                                      config: EnrichmentConfiguration()).suggestion
        other?.ruleID = rule + "-b"
        other?.suggestionID = SuppressionSuggestion.id(ruleID: rule + "-b", profileKey: image,
                                                       node: .file(lineage: [rootKey, Self.nginx], path: "/etc/nginx/nginx.conf"))
        if let other { _ = try await SuppressionStore(client: client).record(other) }
    }

    var secondSuggestionID: String {
        SuppressionSuggestion.id(ruleID: rule + "-b", profileKey: image,
                                 node: .file(lineage: [rootKey, Self.nginx], path: "/etc/nginx/nginx.conf"))
    }

    struct SeedFailure: Error, CustomStringConvertible {
        let description: String
    }
}
