/// Dump event times are the agent's word; the Kafka record time is the broker's. A dump whose
/// window lies implausibly far from its record time (a wrong clock, a crafted dump) would freeze a
/// version's quiet period or age it past the learning limit, so such times are clamped to the
/// record time (and counted) before the merge ever sees them.
public struct EventTimePolicy: Sendable, Hashable {
    /// How far an event may lie after its record time (clock skew), nanoseconds.
    public var maxAhead: Int64
    /// How far an event may lie before its record time (a dump delivered late), nanoseconds.
    public var maxBehind: Int64

    public static let second: Int64 = 1_000_000_000

    public init(maxAhead: Int64 = 300 * second, maxBehind: Int64 = 24 * 3600 * second) {
        self.maxAhead = maxAhead
        self.maxBehind = maxBehind
    }

    /// The dump with `start`/`end` outside `[record - maxBehind, record + maxAhead]` set to the
    /// record time (and `start ≤ end` kept); whether anything was clamped.
    public func apply(to dump: ActivityDump, recordTime: Int64) -> (dump: ActivityDump, clamped: Bool) {
        let low = recordTime.saturatingSubtracting(maxBehind), high = recordTime.saturatingAdding(maxAhead)
        var out = dump
        var clamped = false
        if let end = dump.end, end < low || end > high {
            out.end = recordTime
            clamped = true
        }
        if let start = dump.start, start < low || start > high {
            out.start = min(recordTime, out.end ?? recordTime)
            clamped = true
        }
        if let s = out.start, let e = out.end, s > e { out.start = e }
        // A container may have started long ago; one that starts in the future is a wrong clock.
        if let created = dump.workload.containerCreatedAt, created > high {
            out.workload.containerCreatedAt = nil
            clamped = true
        }
        return (out, clamped)
    }
}
