/// Per-node statistics within one profile version (image tag).
public struct ProfileNodeStats: Codable, Sendable, Hashable {
    public var dumps: Int
    /// Distinct instances (ordinals into the version's instance table) that showed the node.
    public var instances: Set<Int32>
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Open flags and modes OR-ed over every dump (file nodes).
    public var open: FileOpenBits

    public init(dumps: Int, instances: Set<Int32>, firstSeen: Int64, lastSeen: Int64, open: FileOpenBits = FileOpenBits()) {
        self.dumps = dumps
        self.instances = instances
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.open = open
    }
}

/// A workload instance (container) of a version.
public struct ProfileInstance: Codable, Sendable, Hashable {
    public var id: String
    public var firstSeen: Int64
    public var lastSeen: Int64

    public init(id: String, firstSeen: Int64, lastSeen: Int64) {
        self.id = id
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
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
    /// Patterned file directories: lineage + dir → shapes that collapsed there.
    public private(set) var patterns: [String: Set<String>] = [:]
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
                nodes: [ProfileNodeKey: ProfileNodeStats], miner: PatternMiner = PatternMiner()) {
        self.init(profileKey: profileKey, imageTag: imageTag, miner: miner)
        self.dumps = dumps
        instanceList = instances
        for (i, inst) in instances.enumerated() { instanceOrdinals[inst.id] = Int32(i) }
        clock = instances.map(\.lastSeen).max() ?? .min
        self.nodes = nodes
        for (key, stats) in nodes {
            count(key, stats, sign: 1)
            if key.type == .file, let (dir, name) = Self.fileParts(key), PatternMiner.isPattern(name), name == PatternMiner.shape(of: name) {
                patterns[dir, default: []].insert(name)
            }
        }
    }

    public var instances: Int { instanceList.count }

    public func instance(_ ordinal: Int32) -> ProfileInstance { instanceList[Int(ordinal)] }

    /// Merges one normalised dump seen at `time` (event time, so replays are deterministic).
    /// New nodes of `frozen` event types are not learned but returned as anomalies, unless
    /// `warmingUp` (activity right after the instance started is learned, never an anomaly).
    @discardableResult
    public mutating func merge(_ dump: ActivityDump, at time: Int64, frozen: Set<EventType> = [],
                               warmingUp: Bool = false) -> VersionMergeOutcome {
        var outcome = VersionMergeOutcome()
        outcome.instance = ordinal(for: dump.workload.instanceID, at: time)
        dumps += 1
        var keys: [ProfileNodeKey: FileOpenBits] = [:]
        for (key, bits) in ProfileNodeKey.nodes(of: dump) { keys[generalised(key), default: FileOpenBits()].formUnion(bits) }
        for (key, bits) in keys.sorted(by: { $0.key.description < $1.key.description }) {
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
            } else if frozen.contains(key.type) && !warmingUp {
                outcome.anomalies.append(key)
            } else {
                learn(key, ProfileNodeStats(dumps: 1, instances: [outcome.instance], firstSeen: time, lastSeen: time, open: bits),
                      &outcome)
            }
        }
        return outcome
    }

    /// Adds a node (also used when a user accepts an anomaly).
    public mutating func accept(_ key: ProfileNodeKey, instance: Int32, at time: Int64) -> VersionMergeOutcome {
        var outcome = VersionMergeOutcome()
        outcome.instance = instance
        if nodes[key] == nil {
            learn(key, ProfileNodeStats(dumps: 1, instances: [instance], firstSeen: time, lastSeen: time), &outcome)
        }
        return outcome
    }

    private mutating func learn(_ key: ProfileNodeKey, _ stats: ProfileNodeStats, _ outcome: inout VersionMergeOutcome) {
        nodes[key] = stats
        count(key, stats, sign: 1)
        outcome.learned.append(key)
        outcome.touched.insert(key)
        if key.type == .file { minePattern(around: key, &outcome) }
    }

    /// The key a file node is stored under: its pattern when its directory has one that fits.
    public func generalised(_ key: ProfileNodeKey) -> ProfileNodeKey {
        guard key.type == .file, let (dir, name) = Self.fileParts(key), let shapes = patterns[dir] else { return key }
        let shape = PatternMiner.shape(of: name)
        return shapes.contains(shape) ? Self.fileKey(dir: dir, name: shape) : key
    }

    /// When a directory holds `threshold` distinct names of one shape, fold them into a pattern
    /// node: instances are united; dumps is the largest member's count (a lower bound).
    private mutating func minePattern(around key: ProfileNodeKey, _ outcome: inout VersionMergeOutcome) {
        guard let (dir, name) = Self.fileParts(key) else { return }
        let shape = PatternMiner.shape(of: name)
        guard PatternMiner.isPattern(shape), shape != name else { return }
        let prefix = dir + "/"
        let siblings = nodes.keys.filter { k in
            k.type == .file && k.value.hasPrefix(prefix) && !k.value.dropFirst(prefix.count).contains("/")
                && PatternMiner.shape(of: String(k.value.dropFirst(prefix.count))) == shape
                && String(k.value.dropFirst(prefix.count)) != shape
        }
        guard siblings.count >= miner.threshold else { return }
        var merged: ProfileNodeStats?
        for s in siblings {
            let stats = nodes.removeValue(forKey: s)!
            count(s, stats, sign: -1)
            outcome.removed.insert(s)
            outcome.touched.remove(s)
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
        let patternKey = Self.fileKey(dir: dir, name: shape)
        if var existing = nodes[patternKey] {
            count(patternKey, existing, sign: -1)
            existing.dumps = max(existing.dumps, merged!.dumps)
            existing.open.formUnion(merged!.open)
            existing.instances.formUnion(merged!.instances)
            existing.firstSeen = min(existing.firstSeen, merged!.firstSeen)
            existing.lastSeen = max(existing.lastSeen, merged!.lastSeen)
            merged = existing
        }
        nodes[patternKey] = merged!
        count(patternKey, merged!, sign: 1)
        outcome.touched.insert(patternKey)
        outcome.learned.removeAll { outcome.removed.contains($0) }
        if !outcome.learned.contains(patternKey) { outcome.learned.append(patternKey) }
        patterns[dir, default: []].insert(shape)
    }

    /// Keeps Q1, Q2, U and node counts in step with a node's statistics.
    private mutating func count(_ key: ProfileNodeKey, _ stats: ProfileNodeStats, sign: Int) {
        incidences[key.type, default: 0] += sign * stats.dumps
        nodeCounts[key.type, default: 0] += sign
        if stats.dumps == 1 { q1[key.type, default: 0] += sign }
        if stats.dumps == 2 { q2[key.type, default: 0] += sign }
    }

    private mutating func ordinal(for id: String, at time: Int64) -> Int32 {
        clock = max(clock, time)
        if let o = instanceOrdinals[id] {
            instanceList[Int(o)].lastSeen = max(instanceList[Int(o)].lastSeen, time)
            instanceList[Int(o)].firstSeen = min(instanceList[Int(o)].firstSeen, time)
            return o
        }
        let o = Int32(instanceList.count)
        instanceList.append(ProfileInstance(id: id, firstSeen: time, lastSeen: time))
        instanceOrdinals[id] = o
        return o
    }

    /// The ordinal of a known instance.
    public func ordinal(of id: String) -> Int32? { instanceOrdinals[id] }

    static func fileParts(_ key: ProfileNodeKey) -> (dir: String, name: String)? {
        guard key.type == .file, let bar = key.value.firstRange(ofASCII: " | ") else { return nil }
        let lineage = key.value[..<bar.lowerBound]
        let (dir, name) = PatternMiner.split(String(key.value[bar.upperBound...]))
        return (lineage + " | " + dir, name)
    }

    static func fileKey(dir: String, name: String) -> ProfileNodeKey { .init(type: .file, value: dir + "/" + name) }

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
