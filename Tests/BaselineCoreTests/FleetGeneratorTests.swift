import BaselineCore
import Foundation
import Testing

@Suite struct FleetGeneratorTests {
    static let fleet = FleetGenerator.generate(.small)

    static func encode(_ dump: ActivityDump) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(dump))
    }

    static func json(_ bytes: [UInt8]) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
    }

    /// The fleet merged per version through the real decoder and `ProfileMerge.apply`, with the
    /// production defaults.
    static let merged: (states: [String: VersionState], anomalies: [Anomaly]) = {
        var states: [String: VersionState] = [:]
        var anomalies: [Anomaly] = []
        let decoder = DumpDecoder()
        for dump in fleet.dumps {
            let request = try! decoder.decode(encode(dump), receivedAt: dump.end!)
            let key = "\(request.dump.workload.imageName):\(request.dump.workload.imageTag)"
            var state = states[key] ?? VersionState(version: ProfileVersion(profileKey: request.dump.workload.imageName,
                                                                            imageTag: request.dump.workload.imageTag))
            anomalies += ProfileMerge.apply(request, to: &state, config: ModelConfiguration()).anomalies
            states[key] = state
        }
        return (states, anomalies)
    }()

    // MARK: - Determinism

    @Test func sameConfigurationGivesIdenticalOutput() {
        let again = FleetGenerator.generate(.small)
        #expect(again.dumps == Self.fleet.dumps)
        #expect(again.dumps.map(Self.encode) == Self.fleet.dumps.map(Self.encode))
        #expect(again.signals == Self.fleet.signals)
        #expect(again.summary == Self.fleet.summary)
    }

    @Test func anotherSeedGivesAnotherFleet() {
        var config = FleetConfiguration.small
        config.seed = 2
        let other = FleetGenerator.generate(config)
        #expect(other.dumps.count == Self.fleet.dumps.count && other.signals.count == Self.fleet.signals.count)
        #expect(other.dumps.map(Self.encode) != Self.fleet.dumps.map(Self.encode))
        #expect(Set(other.summary.versions.flatMap(\.containers)).isDisjoint(with: Self.fleet.summary.versions.flatMap(\.containers)))
        #expect(other.signals.map(\.bytes) != Self.fleet.signals.map(\.bytes))
    }

    @Test func seededRandomIsSplitMix64() {
        // Reference outputs of SplitMix64 for seed 0 (the same on every platform).
        var rng = SeededRandom(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
        var a = SeededRandom(seed: 9, stream: "x"), b = SeededRandom(seed: 9, stream: "x"), c = SeededRandom(seed: 9, stream: "y")
        let xs = (0..<50).map { _ in a.below(7) }
        #expect(xs == (0..<50).map { _ in b.below(7) })
        #expect(xs != (0..<50).map { _ in c.below(7) })
        #expect(xs.allSatisfy { (0..<7).contains($0) } && Set(xs).count == 7)
    }

    // MARK: - Shape

    @Test func summaryCountsWhatWasGenerated() {
        let config = FleetConfiguration.small
        let s = Self.fleet.summary
        #expect(config.problems().isEmpty)
        #expect(s.versions.count == FleetImageKind.allCases.count * config.tagsPerImage)
        #expect(s.dumps == Self.fleet.dumps.count && s.dumps == s.versions.count * config.replicasPerTag * config.dumpsPerContainer)
        #expect(s.signals == Self.fleet.signals.count)
        for kc in s.signalsByKind {
            #expect(kc.count == Self.fleet.signals.count { $0.kind == kc.kind })
            // Every kind for every image, except busybox applets on images without busybox.
            let images = kc.kind == .otherApplet ? 2 : s.versions.count
            #expect(kc.count == images * config.signalsPerKind, "\(kc.kind)")
        }
        #expect(Set(Self.fleet.signals.map(\.id)).count == Self.fleet.signals.count)
        #expect(Self.fleet.dumps.map { $0.end! } == Self.fleet.dumps.map { $0.end! }.sorted())
        #expect(s.signalsFirstDate * 1_000_000 > s.dumpsEnd)
    }

    @Test func configurationDecodesWithDefaultsAndRoundTrips() throws {
        let partial = try JSONDecoder().decode(FleetConfiguration.self, from: Data(#"{"seed": 7, "replicas_per_tag": 5}"#.utf8))
        var expected = FleetConfiguration()
        expected.seed = 7
        expected.replicasPerTag = 5
        #expect(partial == expected)
        let small = FleetConfiguration.small
        #expect(try JSONDecoder().decode(FleetConfiguration.self, from: JSONEncoder().encode(small)) == small)
        #expect(FleetConfiguration().problems().isEmpty)
        var bad = FleetConfiguration()
        bad.replicasPerTag = 1
        bad.dumpsPerContainer = 4
        #expect(bad.problems().count >= 2)
    }

    // MARK: - Signals

    @Test func everySignalParsesWithItsEventAndWorkload() throws {
        for s in Self.fleet.signals {
            let parsed = try SecuritySignal.parse(s.bytes)
            #expect(parsed.eventName == s.eventType)
            #expect(["exec", "open", "dns", "bind"].contains(s.eventType))
            #expect(parsed.workload?.imageName == s.imageName && parsed.workload?.imageTag == s.imageTag && parsed.hasImageTag)
            #expect(parsed.containerID == s.containerID && parsed.ruleID != nil && parsed.processPath != nil)
            let root = Self.json(s.bytes)
            #expect(root["id"] as? String == s.id)
            // Only the event's own object.
            let objects = ["file", "dns", "bind"].filter { root[$0] != nil }
            #expect(objects == ["open": ["file"], "dns": ["dns"], "bind": ["bind"], "exec": []][s.eventType]!)
            switch s.eventType {
            case "open": #expect(parsed.filePath != nil)
            case "dns": #expect(parsed.dnsName != nil && parsed.dnsType == "A")
            case "bind": #expect(parsed.bindPort != nil && parsed.bindFamily == "AF_INET")
            default: break
            }
            let process = root["process"] as! [String: Any]
            #expect((process["container"] as? [String: Any])?["id"] as? String == s.containerID)
            guard let ancestors = process["ancestors"] as? [[String: Any]] else {
                #expect(s.kind == .noAncestry && process["parent"] == nil)
                continue
            }
            #expect(s.kind != .noAncestry)
            // The workload's processes (nearest first) carry the container; the host ones above them do not.
            let inContainer = ancestors.map { ($0["container"] as? [String: Any])?["id"] as? String }
            let hostStart = inContainer.firstIndex { $0 == nil } ?? ancestors.count
            #expect(inContainer[..<hostStart].allSatisfy { $0 == s.containerID })
            #expect(inContainer[hostStart...].allSatisfy { $0 == nil })
            let host = ancestors[hostStart...].map { ($0["executable"] as! [String: Any])["path"] as! String }
            #expect(host == ["/usr/bin/containerd-shim-runc-v2", "/usr/lib/systemd/systemd"])
        }
    }

    @Test func groundTruthFitsTheMergedProfiles() throws {
        for s in Self.fleet.signals {
            let state = try #require(Self.merged.states["\(s.imageName):\(s.imageTag)"])
            let key = try #require(Self.referenceKey(s.bytes))
            let v = state.version
            let node = v.nodes[key] != nil ? key : v.generalised(key)
            let inProfile = v.nodes[node] != nil
            #expect(inProfile == s.expected.inProfile, "\(s.kind): \(key)")
            if s.kind == .core { #expect(v.commonality(of: node) == 1, "\(key)") }
            if s.kind == .rare { #expect(v.commonality(of: node) < EnrichmentConfiguration().suggestionMinCommonality, "\(key)") }
        }
    }

    /// The node a signal is, by the domain's rules: the workload's lineage is the run of
    /// ancestors that share the signal's container (host processes above it are not part of it),
    /// multi-call binaries carry their argv0, same-binary ancestors collapse.
    static func referenceKey(_ bytes: [UInt8]) -> ProfileNodeKey? {
        let root = json(bytes)
        let process = root["process"] as! [String: Any]
        let cid = (root["container"] as! [String: Any])["id"] as! String
        func identity(_ p: [String: Any]) -> String {
            let path = (p["executable"] as! [String: Any])["path"] as! String
            return MultiCallBinaries.isMultiCall(path) ? "\(path)[\(p["argv0"] as! String)]" : path
        }
        var chain = [identity(process)]
        for a in process["ancestors"] as? [[String: Any]] ?? [] {
            guard (a["container"] as? [String: Any])?["id"] as? String == cid else { break }
            chain.insert(identity(a), at: 0)
        }
        var lineage: [String] = []
        for p in chain where lineage.last != p { lineage.append(p) }
        let pid = process["pid"] as? Int64 ?? (process["pid"] as? Int).map(Int64.init)
        switch (root["evt"] as! [String: Any])["name"] as! String {
        case "exec": return .process(lineage: lineage)
        case "open":
            let path = (root["file"] as! [String: Any])["path"] as! String
            return .file(lineage: lineage, path: PathNormalizer().normalize(path, pid: pid))
        case "dns":
            let q = (root["dns"] as! [String: Any])["question"] as! [String: Any]
            return .dns(lineage: lineage, name: q["name"] as! String, type: q["type"] as! String)
        case "bind":
            let a = (root["bind"] as! [String: Any])["addr"] as! [String: Any]
            return .bind(lineage: lineage, SocketBind(family: a["family"] as! String, ip: a["ip"] as! String, port: a["port"] as! Int))
        default: return nil
        }
    }

    // MARK: - Dumps

    @Test func everyDumpRoundTripsAndNormalises() throws {
        let decoder = DumpDecoder()
        var sawRuntimeRoot = false, sawExecChild = false, sawProc = false
        for dump in Self.fleet.dumps {
            let bytes = Self.encode(dump)
            let (format, raw) = try decoder.decodeRaw(bytes)
            #expect(format == .baselineJSON && raw == dump)
            sawRuntimeRoot = sawRuntimeRoot || dump.processes.contains { $0.path.hasSuffix("containerd-shim-runc-v2") }
            dump.forEachProcess { p, _ in sawExecChild = sawExecChild || p.isExecChild }
            let request = try decoder.decode(bytes, receivedAt: 0)
            #expect(request.dumpID == dump.id && request.sourceFormat == "baseline-json")
            #expect(request.dump.workload == dump.workload)
            let normal = request.dump
            #expect(!normal.processes.contains { ContainerRuntimes.isRuntime($0.path) })
            normal.forEachProcess { p, _ in
                #expect(!p.isExecChild)
                #expect(!p.children.contains { $0.path == p.path && $0.argv0 == p.argv0 })
                for f in p.files where f.path.hasPrefix("/proc/") {
                    sawProc = true
                    #expect(f.path == "/proc/self/status")
                }
            }
            #expect(normal.nodeCount <= dump.nodeCount)
        }
        #expect(sawRuntimeRoot && sawExecChild && sawProc)
    }

    /// Node keys of a dump after normalisation, without its ephemeral files (those seen in only
    /// one dump of the container).
    static func keysByContainer() -> [String: [Set<ProfileNodeKey>]] {
        var out: [String: [Set<ProfileNodeKey>]] = [:]
        let decoder = DumpDecoder()
        for dump in fleet.dumps {
            let normal = try! decoder.decode(encode(dump), receivedAt: 0).dump
            out[dump.workload.containerID!, default: []].append(Set(ProfileNodeKey.nodes(of: normal).keys))
        }
        return out
    }

    @Test func coreIsInEveryContainerAndRareInExactlyOne() throws {
        let keys = Self.keysByContainer()
        for version in Self.fleet.summary.versions {
            func stable(_ c: String) -> Set<ProfileNodeKey> {
                // Keys in every dump of the container (ephemeral names drop out).
                keys[c]!.dropFirst().reduce(keys[c]![0]) { $0.intersection($1) }
            }
            let perContainer = version.containers.map(stable)
            let core = perContainer.dropFirst().reduce(perContainer[0]) { $0.intersection($1) }
            #expect(Set(core.map(\.type)) == Set(EventType.allCases), "\(version.imageName)")
            for (c, id) in version.containers.enumerated() {
                let extra = perContainer[c].subtracting(core)
                if id == version.rareContainer {
                    #expect(extra.count >= 3, "rare behaviour of \(version.imageName)")
                    #expect(Set(extra.map(\.type)).isSuperset(of: [.exec, .file, .dns]))
                    // Not a singleton: in every one of the container's dumps (that is what `stable` kept).
                    #expect(keys[id]!.allSatisfy { extra.isSubset(of: $0) })
                } else {
                    #expect(extra.isEmpty, "\(version.imageName) \(id.prefix(8)): \(extra)")
                }
            }
        }
    }

    @Test func ephemeralNamesAreFreshInEveryDump() {
        var names: [String: [[String]]] = [:]
        for dump in Self.fleet.dumps {
            var files: [String] = []
            dump.forEachProcess { p, _ in files += p.files.map(\.path).filter { !$0.hasPrefix("/proc/") } }
            names[dump.workload.containerID!, default: []].append(files)
        }
        for (container, dumps) in names.sorted(by: { $0.key < $1.key }) {
            var count: [String: Int] = [:]
            for files in dumps { for f in Set(files) { count[f, default: 0] += 1 } }
            let once = Set(count.filter { $0.value == 1 }.keys)
            #expect(once.count >= 8, "\(container.prefix(8))")
            var shapes: Set<String>?
            for files in dumps {
                let fresh = files.filter(once.contains)
                #expect(!fresh.isEmpty)
                // The same shapes every time, each one a pattern the miner can fold.
                let s = Set(fresh.map { f in PatternMiner.split(f).dir + "/" + PatternMiner.skeleton(of: PatternMiner.split(f).name) })
                #expect(fresh.allSatisfy { PatternMiner.isCandidate(PatternMiner.split($0).name) })
                if let shapes { #expect(s == shapes) } else { shapes = s }
            }
        }
    }

    @Test func mergedFleetTurnsEveryEventTypeStable() {
        let merged = Self.merged
        #expect(merged.states.count == Self.fleet.summary.versions.count)
        #expect(merged.anomalies.isEmpty, "\(merged.anomalies.prefix(3))")
        for (key, state) in merged.states.sorted(by: { $0.key < $1.key }) {
            for type in EventType.allCases {
                #expect(state.lifecycle[type]?.state == .stable, "\(key) \(type)")
            }
            #expect(state.version.instances == FleetConfiguration.small.replicasPerTag)
            #expect(!state.version.patterns.isEmpty, "\(key): ephemeral names fold into patterns")
        }
    }

    // MARK: - End to end through the current enrichment

    @Test func enrichmentOnTheGeneratedFleetMeetsTheTargets() throws {
        let matchers = Self.merged.states.mapValues { ProfileMatcher(state: $0) }
        let kinds = Self.fleet.kindsByID
        var tally = EvaluationTally(signals: Self.fleet.signals)
        for s in Self.fleet.signals {
            let parsed = try SecuritySignal.parse(s.bytes)
            let r = Enrichment.enrich(parsed, workload: parsed.workload, matcher: matchers["\(s.imageName):\(s.imageTag)"],
                                      suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
            // Through the bytes, as the Kafka side reads `security-signals.enriched`.
            let enriched = try SecuritySignal.appendingBaseline(r.context, to: s.bytes)
            let outcome = try #require(try SignalOutcome.fromEnrichedSignal(enriched, kinds: kinds))
            #expect(outcome == SignalOutcome(kind: s.kind, baseline: r.context, id: s.id))
            tally.record(outcome)
            tally.record(outcome)  // at-least-once delivery: counted once
        }
        print(tally.render())
        #expect(tally.duplicates == Self.fleet.signals.count)
        #expect(tally.rows.allSatisfy { $0.missing == 0 })
        // Every detection target holds on the pure path (the Kafka path is the evaluation test's).
        for target in tally.targets { #expect(target.passed, "\(target.name): \(target.detail)") }
        let rare = tally.row(.rare)
        #expect(rare.inProfile == rare.signals && rare.anomaly == 0 && rare.suggested == 0)
    }

    // MARK: - Tally

    static func outcomes(_ kind: SignalKind, _ n: Int, inProfile: Bool = false, anomaly: Bool = false, suggested: Bool = false,
                         suppressed: Bool = false) -> [SignalOutcome] {
        (0..<n).map { _ in SignalOutcome(kind: kind, inProfile: inProfile, anomaly: anomaly, suggested: suggested, suppressed: suppressed) }
    }

    @Test func tallyPassesOnAPerfectRun() {
        var tally = EvaluationTally(expected: [.core: 200, .rare: 10, .newBinary: 50, .outsidePattern: 50])
        for o in Self.outcomes(.core, 199, inProfile: true, suggested: true) { tally.record(o) }
        tally.record(SignalOutcome(kind: .core, inProfile: false, anomaly: true, suggested: false, suppressed: false))  // 1 of 200 = 0.5 %
        for o in Self.outcomes(.rare, 10, inProfile: true) { tally.record(o) }
        for o in Self.outcomes(.newBinary, 50, anomaly: true) + Self.outcomes(.outsidePattern, 49, anomaly: true) { tally.record(o) }
        tally.record(SignalOutcome(kind: .outsidePattern, inProfile: false, anomaly: false, suggested: false, suppressed: false, id: "x"))
        tally.record(SignalOutcome(kind: .outsidePattern, inProfile: true, anomaly: false, suggested: false, suppressed: false, id: "x"))
        #expect(tally.duplicates == 1)
        #expect(tally.row(.core) == EvaluationTally.Row(kind: .core, signals: 200, observed: 200, inProfile: 199, anomaly: 1, suggested: 199))
        #expect(tally.attackTotal.signals == 100 && tally.attackTotal.anomaly == 99)  // exactly 99 %
        #expect(tally.targets.map(\.passed) == [true, true, true, true, true])
        #expect(tally.passed)
        let text = tally.render()
        #expect(text.contains("RESULT: PASS") && !text.contains("FAIL"))
        #expect(text.contains("outside_pattern") && text.contains("attack (total)"))
        #expect(text.contains("PASS  core signals with a suggestion: 99.5 % (199 of 200; target ≥ 90 %)"))
    }

    @Test func tallyFailsEachTarget() {
        var tally = EvaluationTally(expected: [.core: 10, .knownBinaryNewParent: 100, .noAncestry: 5])
        for o in Self.outcomes(.core, 8, inProfile: true, suggested: true) { tally.record(o) }  // 80 % suggested, 2 missing
        tally.record(SignalOutcome(kind: .core, inProfile: false, anomaly: true, suggested: false, suppressed: false))  // 10 % anomaly
        for o in Self.outcomes(.knownBinaryNewParent, 97, anomaly: true) { tally.record(o) }
        tally.record(SignalOutcome(kind: .knownBinaryNewParent, inProfile: true, anomaly: false, suggested: true, suppressed: true))
        // 2 attack signals missing: 97 of 100 flagged.
        for o in Self.outcomes(.noAncestry, 5, inProfile: true, suggested: true) { tally.record(o) }  // not a target
        #expect(tally.row(.core).missing == 1 && tally.row(.knownBinaryNewParent).missing == 2)
        #expect(tally.targets.map(\.passed) == [false, false, false, false, false])
        #expect(!tally.passed)
        let text = tally.render()
        #expect(text.contains("FAIL  attack signals with a suggestion: 1 (target 0)"))
        #expect(text.contains("FAIL  attack signals flagged anomaly: 97.0 % (97 of 100; target ≥ 99 %)"))
        #expect(text.contains("note: 3 generated signals never came out of the enricher"))
        #expect(text.contains("RESULT: FAIL (5 of 5 targets missed)"))
        // No signals at all is no pass.
        #expect(!EvaluationTally(expected: [:]).passed)
    }

    @Test func tallyThresholdsAreExact() {
        func run(core: Int, coreAnomaly: Int, coreSuggested: Int) -> [Bool] {
            var t = EvaluationTally(expected: [.core: core, .newBinary: 1])
            t.record(SignalOutcome(kind: .newBinary, inProfile: false, anomaly: true, suggested: false, suppressed: false))
            for i in 0..<core {
                t.record(SignalOutcome(kind: .core, inProfile: true, anomaly: i < coreAnomaly, suggested: i < coreSuggested, suppressed: false))
            }
            return t.targets.map(\.passed)
        }
        #expect(run(core: 200, coreAnomaly: 1, coreSuggested: 180) == [true, true, true, true, true])
        #expect(run(core: 200, coreAnomaly: 2, coreSuggested: 180) == [true, true, true, false, true])
        #expect(run(core: 200, coreAnomaly: 0, coreSuggested: 179) == [true, true, true, true, false])
    }
}
