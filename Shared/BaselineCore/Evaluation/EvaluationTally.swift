import Foundation

/// Counts what the enricher said about generated signals, per `SignalKind`, and checks the
/// detection targets: no attack signal suggested or suppressed, ≥ 99 % of attack signals flagged
/// anomaly, ≤ 0.5 % of core signals flagged anomaly, ≥ 90 % of core signals with a suggestion.
/// Rates are over the signals *generated*, so a signal missing from the output counts against
/// the "at least" targets.
public struct EvaluationTally: Sendable, Hashable {
    public struct Row: Sendable, Hashable, Codable {
        public var kind: SignalKind
        /// Generated (expected in the output).
        public var signals: Int
        /// Distinct signals seen in the output.
        public var observed: Int
        public var inProfile: Int
        public var anomaly: Int
        public var suggested: Int
        public var suppressed: Int
        /// Generated but never seen.
        public var missing: Int { max(0, signals - observed) }

        public init(kind: SignalKind, signals: Int = 0, observed: Int = 0, inProfile: Int = 0, anomaly: Int = 0, suggested: Int = 0,
                    suppressed: Int = 0) {
            self.kind = kind
            self.signals = signals
            self.observed = observed
            self.inProfile = inProfile
            self.anomaly = anomaly
            self.suggested = suggested
            self.suppressed = suppressed
        }
    }

    public struct Target: Sendable, Hashable, Codable {
        public var name: String
        public var passed: Bool
        /// `0 (target 0)`, `99.5 % (199 of 200; target ≥ 99 %)`.
        public var detail: String
    }

    private var counts: [SignalKind: Row]
    private var seenIDs = Set<String>()
    /// Outcomes whose id was already recorded (ignored).
    public private(set) var duplicates = 0

    /// `expected`: how many signals of each kind were generated.
    public init(expected: [SignalKind: Int]) {
        counts = [:]
        for kind in SignalKind.allCases { counts[kind] = Row(kind: kind, signals: expected[kind] ?? 0) }
    }

    public init(signals: [GeneratedSignal]) {
        var expected: [SignalKind: Int] = [:]
        for s in signals { expected[s.kind, default: 0] += 1 }
        self.init(expected: expected)
    }

    public mutating func record(_ outcome: SignalOutcome) {
        if let id = outcome.id, !seenIDs.insert(id).inserted {
            duplicates += 1
            return
        }
        var row = counts[outcome.kind]!
        row.observed += 1
        if outcome.inProfile { row.inProfile += 1 }
        if outcome.anomaly { row.anomaly += 1 }
        if outcome.suggested { row.suggested += 1 }
        if outcome.suppressed { row.suppressed += 1 }
        counts[outcome.kind] = row
    }

    public func row(_ kind: SignalKind) -> Row { counts[kind]! }

    /// One row per kind, in `SignalKind.allCases` order.
    public var rows: [Row] { SignalKind.allCases.map { counts[$0]! } }

    /// The attack kinds summed into one row (kind `.newBinary` is a placeholder).
    public var attackTotal: Row {
        var total = Row(kind: .newBinary)
        for r in rows where r.kind.isAttack {
            total.signals += r.signals
            total.observed += r.observed
            total.inProfile += r.inProfile
            total.anomaly += r.anomaly
            total.suggested += r.suggested
            total.suppressed += r.suppressed
        }
        return total
    }

    public var targets: [Target] {
        let attack = attackTotal
        let core = row(.core)
        func share(_ n: Int, _ of: Int) -> String {
            let value = of == 0 ? "n/a" : Self.percent(Double(n) / Double(of))
            return "\(value) (\(n) of \(of)"
        }
        return [
            Target(name: "attack signals with a suggestion", passed: attack.suggested == 0, detail: "\(attack.suggested) (target 0)"),
            Target(name: "attack signals suppressed", passed: attack.suppressed == 0, detail: "\(attack.suppressed) (target 0)"),
            // Integer comparisons: no rounding at the thresholds.
            Target(name: "attack signals flagged anomaly", passed: attack.signals > 0 && attack.anomaly * 100 >= attack.signals * 99,
                   detail: share(attack.anomaly, attack.signals) + "; target ≥ 99 %)"),
            Target(name: "core signals flagged anomaly", passed: core.signals > 0 && core.anomaly * 1000 <= core.signals * 5,
                   detail: share(core.anomaly, core.signals) + "; target ≤ 0.5 %)"),
            Target(name: "core signals with a suggestion", passed: core.signals > 0 && core.suggested * 10 >= core.signals * 9,
                   detail: share(core.suggested, core.signals) + "; target ≥ 90 %)"),
        ]
    }

    public var passed: Bool { targets.allSatisfy(\.passed) }

    /// The confusion table and one PASS/FAIL line per target.
    public func render() -> String {
        let headers = ["kind", "signals", "in-profile", "anomaly", "suggested", "suppressed", "missing"]
        func cells(_ name: String, _ r: Row) -> [String] {
            [name, "\(r.signals)", "\(r.inProfile)", "\(r.anomaly)", "\(r.suggested)", "\(r.suppressed)", "\(r.missing)"]
        }
        var table = rows.map { cells($0.kind.rawValue, $0) }
        table.append(cells("attack (total)", attackTotal))
        let widths = headers.indices.map { i in max(headers[i].count, table.map { $0[i].count }.max() ?? 0) }
        func line(_ c: [String]) -> String {
            c.indices.map { i in i == 0 ? c[i] + String(repeating: " ", count: widths[i] - c[i].count)
                : String(repeating: " ", count: widths[i] - c[i].count) + c[i] }.joined(separator: "  ")
        }
        var out = [line(headers)]
        for (i, c) in table.enumerated() {
            if i == table.count - 1 { out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
            out.append(line(c))
        }
        out.append("")
        for t in targets { out.append("\(t.passed ? "PASS" : "FAIL")  \(t.name): \(t.detail)") }
        let missing = rows.map(\.missing).reduce(0, +)
        if missing > 0 { out.append("note: \(missing) generated signals never came out of the enricher") }
        if duplicates > 0 { out.append("note: \(duplicates) duplicate outputs ignored (same signal id)") }
        let failed = targets.filter { !$0.passed }.count
        out.append(failed == 0 ? "RESULT: PASS" : "RESULT: FAIL (\(failed) of \(targets.count) targets missed)")
        return out.joined(separator: "\n") + "\n"
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
}
