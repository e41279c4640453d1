import BaselineCore

/// When the rounds of `--interval` run: at start + k × interval, so the time a round takes does
/// not push every later one (no drift). A round that overran one or more ticks skips them (the
/// next round runs at the next tick still ahead) rather than running back to back.
public struct SnapshotSchedule: Sendable, Hashable {
    public var start: Int64
    public var interval: Int64

    /// `start` and `interval` in nanoseconds (any monotonic clock); `interval` > 0.
    public init(start: Int64, interval: Int64) {
        self.start = start
        self.interval = max(1, interval)
    }

    /// The first tick strictly after `now`, and how many ticks were skipped since `after` (the
    /// tick the last round ran at).
    public func next(after tick: Int64, now: Int64) -> (at: Int64, skipped: Int) {
        let elapsed = max(0, now.saturatingSubtracting(start))
        let k = elapsed / interval + 1
        let (product, overflow) = k.multipliedReportingOverflow(by: interval)
        let at = overflow ? Int64.max : start.saturatingAdding(product)
        let ticksSinceLast = max(0, at.saturatingSubtracting(tick) / interval - 1)
        return (at, Int(clamping: ticksSinceLast))
    }
}

/// Notes that repeat every round (an unnamed container, a unit not running) are said once, and
/// again only when they change.
public struct NoteDeduplicator: Sendable {
    private var last: [String]?

    public init() {}

    /// The notes to print this round: all of them when they differ from the last round's, else none.
    public mutating func fresh(_ notes: [String]) -> [String] {
        defer { last = notes }
        return notes == last ? [] : notes
    }
}
