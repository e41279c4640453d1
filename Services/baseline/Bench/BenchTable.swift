import Foundation

/// One line of the bench's table: a measured figure beside the ceiling (or target) it is judged by.
struct BenchRow: Sendable {
    var figure: String
    var measured: String
    /// What the figure is compared with, measured in the same run (or a fixed target).
    var comparedWith: String
    /// measured ÷ ceiling, when there is a ceiling.
    var ratio: String
    var target: String
    /// nil: no target for this row (context only).
    var met: Bool?

    init(_ figure: String, _ measured: String, comparedWith: String = "", ratio: String = "", target: String = "", met: Bool? = nil) {
        self.figure = figure
        self.measured = measured
        self.comparedWith = comparedWith
        self.ratio = ratio
        self.target = target
        self.met = met
    }
}

/// The one table `baseline bench` prints.
struct BenchTable: Sendable {
    var rows: [BenchRow] = []

    mutating func add(_ row: BenchRow) { rows.append(row) }

    func render() -> String {
        let header = ["figure", "measured", "compared with (same run)", "ratio", "target", ""]
        let cells = rows.map { r in
            [r.figure, r.measured, r.comparedWith, r.ratio, r.target, r.met.map { $0 ? "met" : "MISSED" } ?? ""]
        }
        let widths = header.indices.map { c in ([header] + cells).map { $0[c].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            row.enumerated().map { c, s in s.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header), line(widths.map { String(repeating: "-", count: $0) })]
        out += cells.map(line)
        return out.joined(separator: "\n")
    }

    var missed: [BenchRow] { rows.filter { $0.met == false } }
}

/// Number formatting for the table.
enum BenchFormat {
    static func rate(_ perSecond: Double, _ unit: String) -> String { "\(grouped(perSecond)) \(unit)/s" }

    static func grouped(_ x: Double) -> String {
        guard x.isFinite else { return "n/a" }
        if x >= 100 {
            let n = Int(x.rounded())
            var s = String(n)
            var i = s.count - 3
            while i > 0 { s.insert(",", at: s.index(s.startIndex, offsetBy: i)); i -= 3 }
            return s
        }
        return String(format: x >= 10 ? "%.1f" : "%.2f", x)
    }

    static func percent(_ ratio: Double) -> String { ratio.isFinite ? String(format: "%.0f %%", ratio * 100) : "n/a" }

    static func bytes(_ b: Double) -> String {
        if b >= 1_048_576 { return String(format: "%.1f MB", b / 1_048_576) }
        if b >= 1024 { return String(format: "%.1f KB", b / 1024) }
        return "\(Int(b.rounded())) B"
    }

    static func duration(nanoseconds ns: Double) -> String {
        if ns >= 1e6 { return String(format: "%.1f ms", ns / 1e6) }
        if ns >= 1e3 { return String(format: "%.2f µs", ns / 1e3) }
        return String(format: "%.0f ns", ns)
    }
}
