/// The learning model's thresholds (docs/model.md). Durations in nanoseconds.
public struct LifecycleConfiguration: Sendable, Hashable, Codable {
    public static let second: Int64 = 1_000_000_000
    public var maxNovelty: Double = 0.01
    public var minDumps: Int = 10
    public var minInstances: Int = 1
    public var minQuietPeriod: Int64 = 15 * 60 * 1_000_000_000
    public var maxLearningPeriod: Int64 = 48 * 3600 * 1_000_000_000
    public var nodeCap: Int = 50_000

    public init() {}
}

public enum LifecycleState: String, Codable, Sendable, Hashable, CaseIterable {
    case learning, stable, unstable
}

/// The numbers behind a state, recorded with every transition so the API can say why.
public struct LifecycleEvidence: Codable, Sendable, Hashable {
    public var dumps: Int
    public var instances: Int
    public var nodes: Int
    public var q1: Int
    public var q2: Int
    public var coverage: Double
    public var novelty: Double
    public var quietNanoseconds: Int64
    public var learningNanoseconds: Int64
}

public struct LifecycleTransition: Codable, Sendable, Hashable {
    public var type: EventType
    public var from: LifecycleState
    public var to: LifecycleState
    public var at: Int64
    public var reason: String
    public var evidence: LifecycleEvidence
}

/// State of one event type of one version.
public struct EventTypeLifecycle: Codable, Sendable, Hashable {
    public var state: LifecycleState = .learning
    public var learningSince: Int64
    public var lastNewNodeAt: Int64
    /// When the type turned stable (version clock). Dumps whose events predate it are still
    /// learning evidence (they were recorded before the baseline froze), never anomalies.
    public var stableSince: Int64?

    public init(state: LifecycleState, learningSince: Int64, lastNewNodeAt: Int64, stableSince: Int64? = nil) {
        self.state = state
        self.learningSince = learningSince
        self.lastNewNodeAt = lastNewNodeAt
        self.stableSince = stableSince ?? (state == .stable ? learningSince : nil)
    }

    /// Whether new nodes seen at `time` are anomalies (the type was stable by then).
    public func isFrozen(at time: Int64) -> Bool {
        state == .stable && time >= (stableSince ?? .min)
    }

    public init(startedAt: Int64) {
        learningSince = startedAt
        lastNewNodeAt = startedAt
    }

    /// Records that a merge brought new nodes of this type at `time`.
    public mutating func sawNewNodes(at time: Int64) { lastNewNodeAt = max(lastNewNodeAt, time) }

    /// learning → stable when novelty ≤ max, enough dumps and instances, and quiet long enough;
    /// learning → unstable when past the learning period or over the node cap. Stable and
    /// unstable are left only by a user (reset) or by a new image tag.
    public mutating func evaluate(_ type: EventType, version: ProfileVersion, now: Int64,
                                  config: LifecycleConfiguration) -> LifecycleTransition? {
        guard state == .learning else { return nil }
        let c = version.coverage(type)
        let evidence = LifecycleEvidence(dumps: version.dumps, instances: version.instances, nodes: c.nodes, q1: c.q1, q2: c.q2,
                                         coverage: c.coverage, novelty: c.novelty,
                                         quietNanoseconds: max(0, now.saturatingSubtracting(lastNewNodeAt)),
                                         learningNanoseconds: max(0, now.saturatingSubtracting(learningSince)))
        func move(_ to: LifecycleState, _ reason: String) -> LifecycleTransition {
            let t = LifecycleTransition(type: type, from: state, to: to, at: now, reason: reason, evidence: evidence)
            state = to
            if to == .stable { stableSince = now }
            return t
        }
        if c.nodes > config.nodeCap {
            return move(.unstable, "too_large: \(c.nodes) \(type.rawValue) nodes, over the cap of \(config.nodeCap); learning stopped")
        }
        if c.novelty <= config.maxNovelty && version.dumps >= config.minDumps && version.instances >= config.minInstances
            && evidence.quietNanoseconds >= config.minQuietPeriod {
            return move(.stable, "stable: \(version.dumps) dumps from \(version.instances) instances, "
                        + "\(Self.percent(c.coverage)) coverage, no new behaviour for \(Self.duration(evidence.quietNanoseconds))")
        }
        if evidence.learningNanoseconds >= config.maxLearningPeriod {
            return move(.unstable, "still learning after \(Self.duration(evidence.learningNanoseconds)) "
                        + "(novelty \(Self.percent(c.novelty)), \(version.dumps) dumps)")
        }
        return nil
    }

    static func percent(_ x: Double) -> String { "\((x * 1000).rounded() / 10) %" }

    static func duration(_ ns: Int64) -> String {
        let s = ns / 1_000_000_000
        if s >= 3600 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        if s >= 60 { return "\(s / 60) min" }
        return "\(s) s"
    }
}

extension Int64 {
    /// `self - other`, pinned to the representable range instead of trapping.
    public func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (r, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : r
    }

    /// `self + other`, pinned to the representable range instead of trapping.
    public func saturatingAdding(_ other: Int64) -> Int64 {
        let (r, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : r
    }
}
