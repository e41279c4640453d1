import Foundation

/// Outside timestamps to nanoseconds since the epoch, without traps: values that do not fit an
/// Int64 of nanoseconds (dates past 2262, before 1677, NaN) read as absent.
public enum Timestamps {
    /// From a number or numeric string (seconds, milliseconds, microseconds or nanoseconds since
    /// the epoch, told apart by magnitude: Datadog's `date` is in milliseconds), or RFC 3339.
    public static func nanoseconds(_ v: Any?) -> Int64? {
        if let n = LenientJSON.int64(v) {
            guard n > 0 else { return nil }
            let scale: Int64 = n < 100_000_000_000 ? 1_000_000_000 : n < 100_000_000_000_000 ? 1_000_000 : n < 100_000_000_000_000_000 ? 1_000 : 1
            let (ns, overflow) = n.multipliedReportingOverflow(by: scale)
            return overflow ? nil : ns
        }
        guard let s = LenientJSON.string(v),
              let d = ISO8601DateFormatter.withFractions.date(from: s) ?? ISO8601DateFormatter().date(from: s) else { return nil }
        return nanoseconds(d)
    }

    public static func nanoseconds(_ date: Date) -> Int64? {
        let ns = date.timeIntervalSince1970 * 1e9
        guard ns.isFinite, ns > -9.2e18, ns < 9.2e18 else { return nil }
        return Int64(ns)
    }
}
