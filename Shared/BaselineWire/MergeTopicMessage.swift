import BaselineCore

/// A record of `profile-merge-requests`: a dump to merge, or the clock's re-evaluation of a version.
public enum MergeTopicMessage: Sendable, Hashable {
    case dump(MergeRequest)
    case tick(ClockTick)

    /// Reads a record's value; `kind` is its `baseline-kind` header (absent on merge requests). A
    /// kind this version does not know is `unknown_kind` (a `Rejection`), never read as a dump:
    /// a newer producer's record, or a crafted one, must not be merged as something it is not.
    public static func decode(_ value: [UInt8], kind: String?) throws -> MergeTopicMessage {
        switch kind {
        case nil: return .dump(try WireCatalog.mergeRequests.decode(value))
        case WireHeaders.clockTickKind: return .tick(try WireCatalog.clockTicks.decode(value))
        case let other?:
            throw Rejection("unknown_kind", "\(WireHeaders.kind) '\(other.prefix(100))' is not a kind of \(Topics.profileMergeRequests) "
                            + "(none for a merge request, or \(WireHeaders.clockTickKind))")
        }
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
