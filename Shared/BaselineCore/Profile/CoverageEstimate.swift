import Foundation

/// How complete a baseline is, from incidence data (species-richness statistics, Chao & Jost):
/// T sampling units (dumps), Q1/Q2 nodes seen in exactly one/two dumps, U total incidences.
public struct CoverageEstimate: Codable, Sendable, Hashable {
    public var dumps: Int
    public var q1: Int
    public var q2: Int
    public var incidences: Int
    public var nodes: Int

    public init(dumps: Int, q1: Int, q2: Int, incidences: Int, nodes: Int) {
        self.dumps = dumps
        self.q1 = q1
        self.q2 = q2
        self.incidences = incidences
        self.nodes = nodes
    }

    /// Ĉ: estimated probability that an activity in the next dump was seen before.
    public var coverage: Double {
        guard dumps > 0 else { return 0 }
        // No singletons (or nothing at all) after T dumps: nothing novel is being observed.
        if q1 == 0 { return 1 }
        let t = Double(dumps), f1 = Double(q1), f2 = Double(q2), u = Double(incidences)
        if dumps == 1 { return max(0, 1 - f1 / u) }
        let ratio = q2 > 0 ? ((t - 1) * f1) / ((t - 1) * f1 + 2 * f2) : ((t - 1) * (f1 - 1)) / ((t - 1) * (f1 - 1) + 2)
        return min(1, max(0, 1 - (f1 / u) * ratio))
    }

    /// 1 − Ĉ: the estimated probability that the next dump brings a node never seen before.
    public var novelty: Double { 1 - coverage }

    /// Chao2 estimate of behaviours not yet observed.
    public var unseenEstimate: Double {
        guard dumps > 0 else { return 0 }
        let t = Double(dumps), f1 = Double(q1), f2 = Double(q2)
        return q2 > 0 ? ((t - 1) / t) * f1 * f1 / (2 * f2) : ((t - 1) / t) * f1 * max(0, f1 - 1) / 2
    }

    /// Additional dumps needed to reach `target` coverage (0 when reached; nil when not estimable).
    public func dumpsToReach(_ target: Double) -> Int? {
        if coverage >= target { return 0 }
        guard q1 > 0, dumps > 1, incidences > 0 else { return nil }
        let t = Double(dumps), f1 = Double(q1), f2 = Double(q2), u = Double(incidences)
        let base = ((t - 1) * f1) / ((t - 1) * f1 + 2 * max(f2, 1))
        guard base > 0 && base < 1 else { return nil }
        let needed = log((u / f1) * (1 - target)) / log(base) - 1
        guard needed.isFinite else { return nil }
        return max(0, Int(needed.rounded(.up)))
    }
}
