/// Per-profile overrides of the lifecycle criteria (table `profile_overrides`); nil keeps the default.
public struct LifecycleOverrides: Sendable, Hashable, Codable {
    public var maxNovelty: Double?
    public var minDumps: Int?
    public var minInstances: Int?
    public var minQuietPeriod: Int64?
    public var maxLearningPeriod: Int64?
    public var nodeCap: Int?

    public init(maxNovelty: Double? = nil, minDumps: Int? = nil, minInstances: Int? = nil, minQuietPeriod: Int64? = nil,
                maxLearningPeriod: Int64? = nil, nodeCap: Int? = nil) {
        self.maxNovelty = maxNovelty
        self.minDumps = minDumps
        self.minInstances = minInstances
        self.minQuietPeriod = minQuietPeriod
        self.maxLearningPeriod = maxLearningPeriod
        self.nodeCap = nodeCap
    }

    public func applied(to base: LifecycleConfiguration) -> LifecycleConfiguration {
        var c = base
        if let maxNovelty { c.maxNovelty = maxNovelty }
        if let minDumps { c.minDumps = minDumps }
        if let minInstances { c.minInstances = minInstances }
        if let minQuietPeriod { c.minQuietPeriod = minQuietPeriod }
        if let maxLearningPeriod { c.maxLearningPeriod = maxLearningPeriod }
        if let nodeCap { c.nodeCap = nodeCap }
        return c
    }
}

/// How far a learning event type is from stable, in dumps and (at the observed dump rate) time.
public struct StabilityEstimate: Sendable, Hashable {
    public var dumpsToStable: Int?
    public var etaSeconds: Int64?

    public static func estimate(_ coverage: CoverageEstimate, state: LifecycleState, config: LifecycleConfiguration,
                                dumps: Int, firstDumpAt: Int64?, lastDumpAt: Int64?) -> StabilityEstimate {
        guard state == .learning else { return StabilityEstimate(dumpsToStable: 0, etaSeconds: 0) }
        guard let byCoverage = coverage.dumpsToReach(1 - config.maxNovelty) else { return StabilityEstimate() }
        let needed = max(byCoverage, config.minDumps - dumps, 0)
        guard let first = firstDumpAt, let last = lastDumpAt, last > first, dumps > 1 else {
            return StabilityEstimate(dumpsToStable: needed, etaSeconds: nil)
        }
        let perDump = Double(last - first) / Double(dumps - 1)
        let eta = Int64((Double(needed) * perDump + Double(config.minQuietPeriod)) / 1e9)
        return StabilityEstimate(dumpsToStable: needed, etaSeconds: eta)
    }
}
