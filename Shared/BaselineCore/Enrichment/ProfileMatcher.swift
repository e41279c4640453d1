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
        for candidate in [exact, version.generalised(exact)] {
            if let stats = version.nodes[candidate] {
                return Match(key: candidate, stats: stats, commonality: version.commonality(of: candidate))
            }
        }
        var leaves = [Self.leaf(of: exact)]
        if activity.type == .file, let a = activity.activity {
            let (dir, name) = PatternMiner.split(a)
            leaves.append(Self.leaf(process: activity.lineage.last ?? "", activity: dir + "/" + PatternMiner.shape(of: name), type: .file))
        }
        let candidates = leaves.flatMap { byLeaf[$0] ?? [] }
        guard let best = candidates.max(by: { version.commonality(of: $0) < version.commonality(of: $1) }),
              let stats = version.nodes[best] else { return nil }
        return Match(key: best, stats: stats, commonality: version.commonality(of: best))
    }

    static func leaf(of key: ProfileNodeKey) -> String {
        let (lineage, activity) = key.parts
        return leaf(process: lineage.last ?? "", activity: activity, type: key.type)
    }

    static func leaf(process: String, activity: String?, type: EventType? = nil) -> String {
        (type.map { $0.rawValue + ":" } ?? "") + process + " | " + (activity ?? "")
    }
}
