/// The ground-truth class of a generated signal and the verdict a correct enricher gives it once
/// every event type of the profile is stable.
public enum SignalKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// Behaviour every container showed: in profile, no anomaly, a suggestion.
    case core
    /// Behaviour only one container showed (in every one of its dumps): in profile, no anomaly,
    /// no suggestion (commonality 1 / replicas is below the suggestion threshold).
    case rare
    /// An exec of a binary the workload never ran (`/usr/bin/nc` under the server).
    case newBinary = "new_binary"
    /// A known binary under a parent that never spawned it: a web shell (the shell exec'd by the
    /// server) or a GTFOBins-style escape (a helper that never spawned anything spawning the shell).
    case knownBinaryNewParent = "known_binary_new_parent"
    /// A multi-call binary (busybox) with an applet (`nc`) that was never seen.
    case otherApplet = "other_applet"
    /// A known config or secret file opened by a process/lineage that never opened it.
    case knownFileUnknownProcess = "known_file_unknown_process"
    /// A known binary under an unknown parent, doing the file/DNS/bind activity it does normally.
    case unknownParentActivity = "unknown_parent_activity"
    /// A file whose name does not have the shape of the pattern mined in its directory
    /// (`/tmp/evil.sh` next to `/tmp/sess-*`).
    case outsidePattern = "outside_pattern"
    /// A known binary with no ancestors and no parent at all: the enricher cannot place it in the
    /// profile's tree (it reports match `no_ancestry`).
    case noAncestry = "no_ancestry"

    /// The kinds an attacker produces: each must be an anomaly, never suggested or suppressed.
    public static let attacks: [SignalKind] = [
        .newBinary, .knownBinaryNewParent, .otherApplet, .knownFileUnknownProcess, .unknownParentActivity, .outsidePattern,
    ]

    public var isAttack: Bool { Self.attacks.contains(self) }

    public static func < (a: SignalKind, b: SignalKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The verdict expected on a stable profile with default settings (no suppressions accepted,
    /// no auto-suppression).
    public var expected: ExpectedVerdict {
        switch self {
        case .core: ExpectedVerdict(inProfile: true, anomaly: false, suggested: true, suppressed: false)
        case .rare: ExpectedVerdict(inProfile: true, anomaly: false, suggested: false, suppressed: false)
        case .noAncestry: ExpectedVerdict(inProfile: false, anomaly: nil, suggested: false, suppressed: false)
        case .newBinary, .knownBinaryNewParent, .otherApplet, .knownFileUnknownProcess, .unknownParentActivity, .outsidePattern:
            ExpectedVerdict(inProfile: false, anomaly: true, suggested: false, suppressed: false)
        }
    }
}

/// What a correct enricher says about a signal of some kind. `anomaly` is nil when either answer
/// is acceptable (a signal without ancestry cannot be placed, so it is not judged).
public struct ExpectedVerdict: Codable, Sendable, Hashable {
    public var inProfile: Bool
    public var anomaly: Bool?
    public var suggested: Bool
    public var suppressed: Bool

    public init(inProfile: Bool, anomaly: Bool?, suggested: Bool, suppressed: Bool) {
        self.inProfile = inProfile
        self.anomaly = anomaly
        self.suggested = suggested
        self.suppressed = suppressed
    }

    enum CodingKeys: String, CodingKey { case inProfile = "in_profile", anomaly, suggested, suppressed }
}
