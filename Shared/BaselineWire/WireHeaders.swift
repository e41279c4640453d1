/// Record header names Baseline gives meaning to on the bus. A service sets these itself and never
/// passes them through from its input, so an outside producer cannot smuggle them in.
public enum WireHeaders {
    // MARK: Dead letters (every `*.dlq` topic): the original record plus why and where from.

    /// A stable rejection code (`invalid_json`, `merge_failed`, …).
    public static let errorCode = "baseline-error-code"
    /// A human-readable reason (at most 2 000 characters).
    public static let errorReason = "baseline-error-reason"
    public static let sourceTopic = "baseline-source-topic"
    public static let sourcePartition = "baseline-source-partition"
    public static let sourceOffset = "baseline-source-offset"
    /// RFC 3339 time of the rejection.
    public static let failedAt = "baseline-failed-at"
    /// Present when the original was too large for a dead letter: its size in bytes (the value
    /// holds its first bytes).
    public static let originalBytes = "baseline-original-bytes"
    /// On a dead letter whose original key was cut: the key's full size in bytes.
    public static let originalKeyBytes = "baseline-original-key-bytes"
    /// On a dead letter: the original carried this many headers, too large to keep.
    public static let originalHeadersDropped = "baseline-original-headers-dropped"

    // MARK: Inputs and merge requests

    /// The dump's encoding on `activity-dumps` (optional: sniffed when absent); `application/json`
    /// on merge requests.
    public static let contentType = "content-type"
    /// The stable dump id, on every merge request.
    public static let dumpID = "baseline-dump-id"
    /// What a `profile-merge-requests` record is when it is not a merge request: `clock-tick`.
    public static let kind = "baseline-kind"
    /// The `kind` of a `ClockTick`.
    public static let clockTickKind = "clock-tick"
}
