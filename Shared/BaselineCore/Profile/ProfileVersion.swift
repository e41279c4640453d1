/// Per-node statistics within one profile version (image tag).
public struct ProfileNodeStats: Codable, Sendable, Hashable {
    public var dumps: Int
    /// Distinct instances (ordinals into the version's instance table) that showed the node.
    public var instances: InstanceSet
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Open flags and modes OR-ed over every dump (file nodes).
    public var open: FileOpenBits
    /// A mined file pattern (its name holds `*` wildcards), not a concrete path.
    public var isPattern: Bool

    public init(dumps: Int, instances: InstanceSet, firstSeen: Int64, lastSeen: Int64, open: FileOpenBits = FileOpenBits(),
                isPattern: Bool = false) {
        self.dumps = dumps
        self.instances = instances
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.open = open
        self.isPattern = isPattern
    }
}

/// A workload instance (container) of a version.
public struct ProfileInstance: Codable, Sendable, Hashable {
    public var id: String
    /// Event times of its dumps.
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Broker time of its first dump: when the instance was first seen, whatever its dumps claim.
    public var firstReceived: Int64?

    public init(id: String, firstSeen: Int64, lastSeen: Int64, firstReceived: Int64? = nil) {
        self.id = id
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.firstReceived = firstReceived
    }
}

/// What merging one dump did to a version.
public struct VersionMergeOutcome: Sendable, Hashable {
    /// Nodes added to the profile.
    public var learned: [ProfileNodeKey] = []
    /// New nodes of a stable (frozen) event type: not learned, reported as anomalies.
    public var anomalies: [ProfileNodeKey] = []
    /// Nodes whose statistics changed (learned ones included), for persistence.
    public var touched: Set<ProfileNodeKey> = []
    /// Nodes folded into a pattern and removed.
    public var removed: Set<ProfileNodeKey> = []
    /// New nodes of a stable type seen during warm-up: neither learned nor anomalies.
    public var warmUpIgnored: [ProfileNodeKey] = []
    /// The instance ordinal of the dump.
    public var instance: Int32 = 0
}

/// One version of a profile (image name + tag) in memory: nodes with statistics, instances, the
/// file patterns mined so far and the incidence counters behind the coverage estimate. Pure and
/// deterministic: merging a dump is O(nodes in the dump); matching is a dictionary lookup.
public struct ProfileVersion: Sendable, Hashable {
    public let profileKey: String
    public let imageTag: String
    public private(set) var nodes: [ProfileNodeKey: ProfileNodeStats] = [:]
    public private(set) var instanceList: [ProfileInstance] = []
    private var instanceOrdinals: [String: Int32] = [:]
    public private(set) var dumps = 0
    /// The version's clock: the latest event time merged so far (dumps may arrive out of order).
    public private(set) var clock: Int64 = .min
    /// Whether process identities include arguments (the dumps' `differentiate_args`); signals
    /// must be keyed the same way.
    public private(set) var differentiateArgs = false
    /// Mined patterns: lineage + dir → skeleton → pattern names.
    public private(set) var patterns: [String: [String: [String]]] = [:]
    /// Concrete file names not covered by a pattern, by lineage + dir and skeleton: the clusters
    /// that may become patterns (an index, so mining never scans the version).
    private var clusters: [String: [String: PatternCluster]] = [:]
    public var miner: PatternMiner
    private var q1: [EventType: Int] = [:]
    private var q2: [EventType: Int] = [:]
    private var incidences: [EventType: Int] = [:]
    private var nodeCounts: [EventType: Int] = [:]

    public init(profileKey: String, imageTag: String, miner: PatternMiner = PatternMiner()) {
        self.profileKey = profileKey
        self.imageTag = imageTag
        self.miner = miner
    }

    /// Rebuilds a version from stored state (counters are derived, not stored).
    public init(profileKey: String, imageTag: String, dumps: Int, instances: [ProfileInstance],
                nodes: [ProfileNodeKey: ProfileNodeStats], differentiateArgs: Bool = false, miner: PatternMiner = PatternMiner()) {
        self.init(profileKey: profileKey, imageTag: imageTag, miner: miner)
        self.dumps = dumps
        self.differentiateArgs = differentiateArgs
        instanceList = instances
        for (i, inst) in instances.enumerated() { instanceOrdinals[inst.id] = Int32(clamping: i) }
        clock = instances.map(\.lastSeen).max() ?? .min
        self.nodes = nodes
        for (key, stats) in nodes {
            count(key, stats, sign: 1)
            if stats.isPattern, let (dir, name) = Self.fileParts(key) {
                patterns[dir, default: [:]][PatternMiner.skeleton(of: name), default: []].append(name)
            }
        }
        for (key, stats) in nodes where !stats.isPattern { index(key) }
        for dir in patterns.keys { for skeleton in patterns[dir]!.keys { patterns[dir]![skeleton]!.sort() } }
    }

    public var instances: Int { instanceList.count }

    public func instance(_ ordinal: Int32) -> ProfileInstance { instanceList[Int(ordinal)] }

    /// Merges one normalised dump seen at `time` (event time, so replays are deterministic).
    /// New nodes of `frozen` event types are not learned but returned as anomalies, unless
    /// `warmingUp` (activity right after the instance started is learned, never an anomaly).
    /// New nodes of `closed` types (over their node cap, or unstable) are neither.
    ///
    /// A snapshot (`dump.isSnapshot`) is no evidence: it is no sampling unit (`dumps` stays), does
    /// not move the version's clock, and leaves known nodes' counts alone; its new nodes are learned
    /// as seen once (singletons, which keep novelty up until a runtime dump shows them too).
    @discardableResult
    public mutating func merge(_ dump: ActivityDump, at time: Int64, receivedAt: Int64? = nil, frozen: Set<EventType> = [],
                               closed: Set<EventType> = [], warmingUp: Bool = false) -> VersionMergeOutcome {
        var outcome = VersionMergeOutcome()
        let evidence = !dump.isSnapshot
        outcome.instance = ordinal(for: dump.workload.instanceID, at: time, receivedAt: receivedAt, advancingClock: evidence)
        if dump.differentiateArgs { differentiateArgs = true }
        if evidence { dumps += 1 }
        var keys: [ProfileNodeKey: FileOpenBits] = [:]
        for (key, bits) in ProfileNodeKey.nodes(of: dump) { keys[generalised(key), default: FileOpenBits()].formUnion(bits) }
        var seenInThisDump = Set<ProfileNodeKey>()
        // In a fixed order (the keys' descriptions, computed once each), so merges are deterministic.
        for (_, rawKey, bits) in keys.map({ ($0.key.description, $0.key, $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            // A pattern mined earlier in this same dump covers the rest of its siblings.
            let key = rawKey.type == .file ? generalised(rawKey) : rawKey
            if !seenInThisDump.insert(key).inserted {
                if var stats = nodes[key] {
                    stats.open.formUnion(bits)
                    nodes[key] = stats
                }
                continue
            }
            if !evidence && nodes[key] != nil {
                // A snapshot confirms nothing: what a process holds open may predate what it runs now.
                continue
            }
            if var stats = nodes[key] {
                stats.open.formUnion(bits)
                count(key, stats, sign: -1)
                stats.dumps += 1
                stats.instances.insert(outcome.instance)
                stats.lastSeen = max(stats.lastSeen, time)
                stats.firstSeen = min(stats.firstSeen, time)
                nodes[key] = stats
                count(key, stats, sign: 1)
                outcome.touched.insert(key)
            } else if frozen.contains(key.type) {
                // Warm-up activity is no anomaly, but a stable baseline never learns from it either:
                // a freshly started (or restarted) container must not be able to teach the profile.
                if warmingUp { outcome.warmUpIgnored.append(key) } else { outcome.anomalies.append(key) }
            } else if closed.contains(key.type) {
                continue
            } else {
                learn(key, ProfileNodeStats(dumps: 1, instances: [outcome.instance], firstSeen: time, lastSeen: time, open: bits),
                      &outcome)
                // Folded into a new pattern: the pattern already counts this dump.
                if outcome.removed.contains(key) { seenInThisDump.insert(generalised(key)) }
            }
        }
        return outcome
    }

    /// Adds exactly this node (a user accepted an anomaly). Nothing is mined around it: one
    /// accepted file must not fold its siblings into a wildcard pattern of a stable type.
    public mutating func accept(_ key: ProfileNodeKey, instance: Int32, at time: Int64) -> VersionMergeOutcome {
        var outcome = VersionMergeOutcome()
        outcome.instance = instance
        if nodes[key] == nil {
            let stats = ProfileNodeStats(dumps: 1, instances: [instance], firstSeen: time, lastSeen: time)
            nodes[key] = stats
            count(key, stats, sign: 1)
            outcome.learned.append(key)
            outcome.touched.insert(key)
            if key.type == .file { index(key) }
        }
        return outcome
    }

    private mutating func learn(_ key: ProfileNodeKey, _ stats: ProfileNodeStats, _ outcome: inout VersionMergeOutcome) {
        nodes[key] = stats
        count(key, stats, sign: 1)
        outcome.learned.append(key)
        outcome.touched.insert(key)
        if key.type == .file && !stats.isPattern { minePattern(around: key, &outcome) }
    }

    /// The key a file node is stored under: the pattern of its directory that covers its name, if any.
    public func generalised(_ key: ProfileNodeKey) -> ProfileNodeKey {
        // Most directories have no pattern: look the directory up before tokenising the name.
        guard key.type == .file, !patterns.isEmpty, let (dir, name) = Self.fileParts(key), let byDir = patterns[dir],
              let candidates = byDir[PatternMiner.skeleton(of: name)] else { return key }
        for pattern in candidates where PatternMiner.matches(name, pattern: pattern) { return Self.fileKey(dir: dir, name: pattern) }
        return key
    }

    /// Adds a concrete file node to its cluster (directory + skeleton).
    private mutating func index(_ key: ProfileNodeKey) {
        guard key.type == .file, let (dir, name) = Self.fileParts(key), PatternMiner.isCandidate(name) else { return }
        clusters[dir, default: [:]][PatternMiner.skeleton(of: name), default: PatternCluster()].insert(name)
    }

    /// When a directory holds `threshold` distinct uncovered names of one skeleton, fold them into
    /// a pattern node keeping their common tokens: instances are united; dumps is the largest
    /// member's count (a lower bound).
    private mutating func minePattern(around key: ProfileNodeKey, _ outcome: inout VersionMergeOutcome) {
        guard let (dir, name) = Self.fileParts(key), PatternMiner.isCandidate(name) else { return }
        let skeleton = PatternMiner.skeleton(of: name)
        clusters[dir, default: [:]][skeleton, default: PatternCluster()].insert(name)
        guard let cluster = clusters[dir]?[skeleton], cluster.count >= miner.threshold, let pattern = cluster.pattern else { return }
        clusters[dir]?[skeleton] = nil
        var merged: ProfileNodeStats?
        for member in cluster.names.sorted() {
            let k = Self.fileKey(dir: dir, name: member)
            guard let stats = nodes.removeValue(forKey: k) else { continue }
            count(k, stats, sign: -1)
            outcome.removed.insert(k)
            outcome.touched.remove(k)
            if var m = merged {
                m.open.formUnion(stats.open)
                m.dumps = max(m.dumps, stats.dumps)
                m.instances.formUnion(stats.instances)
                m.firstSeen = min(m.firstSeen, stats.firstSeen)
                m.lastSeen = max(m.lastSeen, stats.lastSeen)
                merged = m
            } else {
                merged = stats
            }
        }
        guard var result = merged else { return }
        result.isPattern = true
        let patternKey = Self.fileKey(dir: dir, name: pattern)
        if let existing = nodes[patternKey] {
            count(patternKey, existing, sign: -1)
            result.dumps = max(existing.dumps, result.dumps)
            result.open.formUnion(existing.open)
            result.instances.formUnion(existing.instances)
            result.firstSeen = min(existing.firstSeen, result.firstSeen)
            result.lastSeen = max(existing.lastSeen, result.lastSeen)
        }
        nodes[patternKey] = result
        count(patternKey, result, sign: 1)
        outcome.touched.insert(patternKey)
        outcome.learned.removeAll { outcome.removed.contains($0) }
        if !outcome.learned.contains(patternKey) { outcome.learned.append(patternKey) }
        if !(patterns[dir]?[skeleton]?.contains(pattern) ?? false) {
            patterns[dir, default: [:]][skeleton, default: []].append(pattern)
            patterns[dir]![skeleton]!.sort()
        }
    }

    /// Keeps Q1, Q2, U and node counts in step with a node's statistics.
    private mutating func count(_ key: ProfileNodeKey, _ stats: ProfileNodeStats, sign: Int) {
        incidences[key.type, default: 0] += sign * stats.dumps
        nodeCounts[key.type, default: 0] += sign
        if stats.dumps == 1 { q1[key.type, default: 0] += sign }
        if stats.dumps == 2 { q2[key.type, default: 0] += sign }
    }

    private mutating func ordinal(for id: String, at time: Int64, receivedAt: Int64?, advancingClock: Bool = true) -> Int32 {
        if advancingClock { clock = max(clock, time) }
        if let o = instanceOrdinals[id] {
            instanceList[Int(o)].lastSeen = max(instanceList[Int(o)].lastSeen, time)
            instanceList[Int(o)].firstSeen = min(instanceList[Int(o)].firstSeen, time)
            if let r = receivedAt { instanceList[Int(o)].firstReceived = min(instanceList[Int(o)].firstReceived ?? r, r) }
            return o
        }
        let o = Int32(clamping: instanceList.count)
        instanceList.append(ProfileInstance(id: id, firstSeen: time, lastSeen: time, firstReceived: receivedAt))
        instanceOrdinals[id] = o
        return o
    }

    /// The ordinal of a known instance.
    public func ordinal(of id: String) -> Int32? { instanceOrdinals[id] }

    /// A file node's lineage + directory (the key of its patterns and clusters) and its name.
    static func fileParts(_ key: ProfileNodeKey) -> (dir: String, name: String)? {
        guard key.type == .file, let bar = key.value.firstRange(ofASCII: " | ") else { return nil }
        let value = key.value
        let path = value[bar.upperBound...]
        // ASCII: "lineage | dir" is the key's own prefix up to the path's last slash (one copy, no
        // concatenation; every file key of every merge passes here, twice).
        guard path.utf8.allSatisfy({ $0 < 0x80 }) else { return filePartsByCharacters(key) }
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return (String(value[..<bar.upperBound]), String(path)) }
        return (String(value[..<slash]), String(value[value.utf8.index(after: slash)...]))
    }

    /// `fileParts` by Characters (any key).
    static func filePartsByCharacters(_ key: ProfileNodeKey) -> (dir: String, name: String)? {
        guard key.type == .file, let bar = key.value.firstRange(ofASCII: " | ") else { return nil }
        let lineage = key.value[..<bar.lowerBound]
        let (dir, name) = PatternMiner.split(String(key.value[bar.upperBound...]))
        return (lineage + " | " + dir, name)
    }

    static func fileKey(dir: String, name: String) -> ProfileNodeKey { .init(type: .file, value: dir + "/" + name) }

    /// Nodes of one event type.
    public func nodeCount(_ type: EventType) -> Int { nodeCounts[type] ?? 0 }

    /// Behavior commonality of a node: instances that showed it ÷ instances of the version.
    public func commonality(of key: ProfileNodeKey) -> Double {
        guard instances > 0, let stats = nodes[key] else { return 0 }
        return Double(stats.instances.count) / Double(instances)
    }

    /// A process node's score: the mean commonality of the process itself and of its activity
    /// leaves (files, DNS names, binds), so a common binary touching rare files scores lower.
    public func processCommonality(lineage: ProfileNodeKey) -> Double {
        guard lineage.type == .exec, nodes[lineage] != nil else { return 0 }
        let prefix = lineage.value + " | "
        var scores = [commonality(of: lineage)]
        for (key, _) in nodes where key.type != .exec && key.value.hasPrefix(prefix) { scores.append(commonality(of: key)) }
        return scores.reduce(0, +) / Double(scores.count)
    }

    /// The profile-level score: mean node commonality, optionally for one event type.
    public func profileCommonality(type: EventType? = nil) -> Double {
        var total = 0.0
        var n = 0
        for (key, stats) in nodes where type == nil || key.type == type {
            total += Double(stats.instances.count)
            n += 1
        }
        guard n > 0, instances > 0 else { return 0 }
        return total / Double(n) / Double(instances)
    }

    /// The incidence statistics of one event type (every merged dump is a sampling unit for every type).
    public func coverage(_ type: EventType) -> CoverageEstimate {
        CoverageEstimate(dumps: dumps, q1: q1[type] ?? 0, q2: q2[type] ?? 0,
                         incidences: incidences[type] ?? 0, nodes: nodeCounts[type] ?? 0)
    }
}
