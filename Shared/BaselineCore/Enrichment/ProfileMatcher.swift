/// Matches signal activity against one profile version, lineage-exact: activity is in the profile
/// only when the acting process's whole lineage, from the workload's first process down, is a path
/// of the profile's tree and that process showed this activity (or one of the file patterns mined
/// in that directory covers it). There is deliberately no fallback on "the same binary somewhere
/// else in the tree": that is how a web shell (`nginx > sh`) passes for the entrypoint (`sh`).
///
/// Cost: two dictionary lookups (exact node, then its pattern), whatever the profile's size.
public struct ProfileMatcher: Sendable {
    public let state: VersionState
    /// The profile-level commonality, computed once per loaded version rather than per signal.
    public let profileCommonality: Double

    public init(state: VersionState) {
        self.state = state
        profileCommonality = state.version.profileCommonality()
    }

    public enum Kind: String, Sendable, Hashable {
        /// The node itself.
        case exact
        /// A mined file pattern of the same lineage and directory whose shape the name has.
        case pattern
    }

    public struct Match: Sendable, Hashable {
        public var key: ProfileNodeKey
        public var stats: ProfileNodeStats
        public var commonality: Double
        public var kind: Kind
    }

    /// The node key `activity` has in this version (its lineage identities follow the version's
    /// `differentiate_args`); nil without usable ancestry.
    public func key(of activity: SignalActivity) -> ProfileNodeKey? {
        activity.key(differentiateArgs: state.version.differentiateArgs)
    }

    public func match(_ activity: SignalActivity) -> Match? {
        guard let exact = key(of: activity) else { return nil }
        let version = state.version
        if let stats = version.nodes[exact], Self.opensAsLearned(activity, stats) {
            return Match(key: exact, stats: stats, commonality: version.commonality(of: exact), kind: .exact)
        }
        let pattern = version.generalised(exact)
        if pattern != exact, let stats = version.nodes[pattern], Self.opensAsLearned(activity, stats) {
            return Match(key: pattern, stats: stats, commonality: version.commonality(of: pattern), kind: .pattern)
        }
        return nil
    }

    /// The write-side open flags (access mode, create, truncate, append) a file was seen with.
    static let writeFlags: UInt32 = 0o3 | 0o100 | 0o1000 | 0o2000

    /// A file opened for writing where the profile only ever read it is new behaviour.
    static func opensAsLearned(_ activity: SignalActivity, _ stats: ProfileNodeStats) -> Bool {
        guard activity.type == .file, let flags = activity.openFlags else { return true }
        return flags & writeFlags & ~stats.open.flags == 0
    }
}
