/// Matches signal activity against one profile version. Built once per loaded version (O(nodes));
/// each match is a few dictionary lookups, so its cost does not grow with the profile.
///
/// Order: the exact node (full lineage), its file pattern, then the same activity under the same
/// process anywhere in the tree (signals may carry a longer or shorter ancestry than the dump's
/// normalised tree); among those, the most common node wins.
public struct ProfileMatcher: Sendable {
    public let state: VersionState
    private let byLeaf: [String: [ProfileNodeKey]]

    public init(state: VersionState) {
        self.state = state
        var index: [String: [ProfileNodeKey]] = [:]
        for key in state.version.nodes.keys { index[Self.leaf(of: key), default: []].append(key) }
        byLeaf = index
    }

    public struct Match: Sendable, Hashable {
        public var key: ProfileNodeKey
        public var stats: ProfileNodeStats
        public var commonality: Double
    }

    public func match(_ activity: SignalActivity) -> Match? {
        let version = state.version
        let exact = activity.key
        if let stats = version.nodes[exact] {
            return Match(key: exact, stats: stats, commonality: version.commonality(of: exact))
        }
        let pattern = version.generalised(exact)
        if pattern != exact, let stats = version.nodes[pattern] {
            return Match(key: pattern, stats: stats, commonality: version.commonality(of: pattern))
        }
        var leaves = [Self.leaf(of: exact)]
        if activity.type == .file, let a = activity.activity {
            let (dir, name) = PatternMiner.split(a)
            leaves.append(Self.leaf(process: activity.lineage.last ?? "", activity: dir + "/" + PatternMiner.shape(of: name), type: .file))
        }
        var best: Match?
        for leaf in leaves {
            for key in byLeaf[leaf] ?? [] {
                guard let stats = version.nodes[key] else { continue }
                if best == nil || stats.instances.count > best!.stats.instances.count {
                    best = Match(key: key, stats: stats, commonality: version.commonality(of: key))
                }
            }
        }
        return best
    }

    static func leaf(of key: ProfileNodeKey) -> String {
        let (lineage, activity) = key.parts
        return leaf(process: lineage.last ?? "", activity: activity, type: key.type)
    }

    static func leaf(process: String, activity: String?, type: EventType? = nil) -> String {
        (type.map { $0.rawValue + ":" } ?? "") + process + " | " + (activity ?? "")
    }
}
