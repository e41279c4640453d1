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
        return LenientJSON.string(v).flatMap(rfc3339)
    }

    public static func nanoseconds(_ date: Date) -> Int64? {
        let ns = date.timeIntervalSince1970 * 1e9
        guard ns.isFinite, ns > -9.2e18, ns < 9.2e18 else { return nil }
        return Int64(ns)
    }

    /// An RFC 3339 date-time (`2025-11-29T07:06:40Z`, `2025-11-29T09:06:40.123456789+02:00`) as
    /// nanoseconds since the epoch; nil when malformed or outside the Int64 range (before 1677,
    /// past 2262). Parsed here, exact to the nanosecond (digits past the ninth are dropped), in
    /// time linear in the length: outside strings never reach ICU's date parser, which a long
    /// fraction crashed with SIGFPE (found by fuzzing, docs/reliability.md).
    public static func rfc3339(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        guard b.count >= 20 else { return nil }
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at >= 0, at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        func at(_ i: Int, _ c: Unicode.Scalar) -> Bool { i < b.count && b[i] == UInt8(ascii: c) }
        guard let year = digits(0, 4), at(4, "-"), let month = digits(5, 2), at(7, "-"), let day = digits(8, 2),
              at(10, "T") || at(10, "t") || at(10, " "),
              let hour = digits(11, 2), at(13, ":"), let minute = digits(14, 2), at(16, ":"), let second = digits(17, 2)
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if at(i, ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if i - start < 9 { nanos = nanos * 10 + Int64(b[i] - 0x30) }
                i += 1
            }
            guard i > start else { return nil }
            for _ in min(i - start, 9)..<9 { nanos *= 10 }
        }
        var offset = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            guard let h = digits(i + 1, 2), at(i + 3, ":"), let m = digits(i + 4, 2), h < 24, m < 60 else { return nil }
            offset = (h * 3600 + m * 60) * (at(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
              second <= 60  // a leap second
        else { return nil }
        // Years 0000-9999: a few hundred billion seconds at most, so only the nanoseconds can overflow.
        var seconds = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second - offset)
        if seconds < 0 && nanos > 0 {  // so that the earliest representable instant does not overflow on the way
            seconds += 1
            nanos -= 1_000_000_000
        }
        let (ns, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = ns.addingReportingOverflow(nanos)
        return o1 || o2 ? nil : total
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
