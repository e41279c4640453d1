/// Per-node statistics within one profile version (image tag).
public struct ProfileNodeStats: Codable, Sendable, Hashable {
    public var dumps: Int
    /// Distinct instances (ordinals into the version's instance table) that showed the node.
    public var instances: Set<Int32>
    public var firstSeen: Int64
    public var lastSeen: Int64
}

/// One version of a profile (image name + tag) in memory: its nodes with statistics, its
/// instances, and the incidence counters behind the coverage estimate. Pure; merging a dump is
/// O(nodes in the dump), matching is a dictionary lookup.
public struct ProfileVersion: Sendable {
    public let profileKey: String
    public let imageTag: String
    public private(set) var nodes: [ProfileNodeKey: ProfileNodeStats] = [:]
    public private(set) var instanceIDs: [String] = []
    private var instanceOrdinals: [String: Int32] = [:]
    public private(set) var dumps = 0
    private var q1: [EventType: Int] = [:]
    private var q2: [EventType: Int] = [:]
    private var incidences: [EventType: Int] = [:]
    private var nodeCounts: [EventType: Int] = [:]

    public init(profileKey: String, imageTag: String) {
        self.profileKey = profileKey
        self.imageTag = imageTag
    }

    public var instances: Int { instanceIDs.count }

    /// Merges one normalised dump; returns the keys that were new to this version.
    @discardableResult
    public mutating func merge(_ dump: ActivityDump, at time: Int64) -> [ProfileNodeKey] {
        let instance = ordinal(for: dump.workload.instanceID)
        dumps += 1
        var newKeys: [ProfileNodeKey] = []
        let keys = ProfileNodeKey.keys(of: dump)
        for key in keys {
            incidences[key.type, default: 0] += 1
            if var stats = nodes[key] {
                if stats.dumps == 1 { q1[key.type, default: 0] -= 1; q2[key.type, default: 0] += 1 }
                else if stats.dumps == 2 { q2[key.type, default: 0] -= 1 }
                stats.dumps += 1
                stats.instances.insert(instance)
                stats.lastSeen = max(stats.lastSeen, time)
                stats.firstSeen = min(stats.firstSeen, time)
                nodes[key] = stats
            } else {
                nodes[key] = ProfileNodeStats(dumps: 1, instances: [instance], firstSeen: time, lastSeen: time)
                q1[key.type, default: 0] += 1
                nodeCounts[key.type, default: 0] += 1
                newKeys.append(key)
            }
        }
        return newKeys.sorted { $0.description < $1.description }
    }

    private mutating func ordinal(for id: String) -> Int32 {
        if let o = instanceOrdinals[id] { return o }
        let o = Int32(instanceIDs.count)
        instanceIDs.append(id)
        instanceOrdinals[id] = o
        return o
    }

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
        let selected = nodes.keys.filter { type == nil || $0.type == type }
        guard !selected.isEmpty else { return 0 }
        return selected.map(commonality(of:)).reduce(0, +) / Double(selected.count)
    }

    /// The incidence statistics of one event type (every merged dump is a sampling unit for every type).
    public func coverage(_ type: EventType) -> CoverageEstimate {
        CoverageEstimate(dumps: dumps, q1: q1[type] ?? 0, q2: q2[type] ?? 0,
                         incidences: incidences[type] ?? 0, nodes: nodeCounts[type] ?? 0)
    }
}
