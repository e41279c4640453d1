import BaselineCore

/// A record of `profile-merge-requests`: a dump to merge, or the clock's re-evaluation of a version.
public enum MergeTopicMessage: Sendable, Hashable {
    case dump(MergeRequest)
    case tick(ClockTick)

    /// Reads a record's value; `kind` is its `baseline-kind` header (absent on merge requests).
    public static func decode(_ value: [UInt8], kind: String?) throws -> MergeTopicMessage {
        if kind == WireHeaders.clockTickKind { return .tick(try WireCatalog.clockTicks.decode(value)) }
        return .dump(try WireCatalog.mergeRequests.decode(value))
    }

    public var profileKey: String {
        switch self {
        case .dump(let r): r.profileKey
        case .tick(let t): t.profileKey
        }
    }

    public var imageTag: String {
        switch self {
        case .dump(let r): r.dump.workload.imageTag
        case .tick(let t): t.imageTag
        }
    }

    public var isDump: Bool { if case .dump = self { true } else { false } }
}
