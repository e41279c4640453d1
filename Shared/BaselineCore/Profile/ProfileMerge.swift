/// Settings of the model (docs/model.md). Durations in nanoseconds.
public struct ModelConfiguration: Sendable, Hashable {
    public var lifecycle = LifecycleConfiguration()
    /// A dump whose window ends within this time of its instance's first dump is warm-up activity:
    /// learned, never an anomaly.
    public var warmupPeriod: Int64 = 180 * 1_000_000_000
    /// How late a dump may arrive (its receipt after its events) and still count as evidence from
    /// before its profile turned stable. Beyond it the dump is judged as of its receipt, less this:
    /// event times are the producer's word, so without the bound a dump dated back past a
    /// profile's stability would be learned instead of raising anomalies.
    public var lateDeliveryGrace: Int64 = 10 * 60 * 1_000_000_000
    public var miner = PatternMiner()

    public init() {}
}

/// A version's learned state: its nodes and the lifecycle of each event type.
public struct VersionState: Sendable, Hashable {
    public var version: ProfileVersion
    public var lifecycle: [EventType: EventTypeLifecycle]
    public var overrides: LifecycleOverrides

    public init(version: ProfileVersion, lifecycle: [EventType: EventTypeLifecycle] = [:],
                overrides: LifecycleOverrides = LifecycleOverrides()) {
        self.version = version
        self.lifecycle = lifecycle
        self.overrides = overrides
    }

    /// The state of each event type (types never seen are `learning`).
    public var states: [EventType: LifecycleState] {
        Dictionary(uniqueKeysWithValues: EventType.allCases.map { ($0, lifecycle[$0]?.state ?? .learning) })
    }

    /// The version's overall state: stable when every event type is, unstable when any is,
    /// learning otherwise.
    public var overallState: LifecycleState {
        let s = states.values
        if s.contains(.unstable) { return .unstable }
        return s.allSatisfy { $0 == .stable } ? .stable : .learning
    }
}

/// An activity outside a stable profile.
public struct Anomaly: Sendable, Hashable, Codable {
    public var profileKey: String
    public var imageTag: String
    public var node: ProfileNodeKey
    public var dumpID: String
    public var instanceID: String
    public var at: Int64

    public init(profileKey: String, imageTag: String, node: ProfileNodeKey, dumpID: String, instanceID: String, at: Int64) {
        self.profileKey = profileKey
        self.imageTag = imageTag
        self.node = node
        self.dumpID = dumpID
        self.instanceID = instanceID
        self.at = at
    }

    /// Stable id: the same anomaly from a replayed dump has the same id; bounded (`AnomalyID`).
    public var id: String { AnomalyID.make(profileKey: profileKey, imageTag: imageTag, node: node, dumpID: dumpID) }
}

/// What merging one dump produced.
public struct DumpMergeResult: Sendable, Hashable {
    public var dumpID: String
    public var eventTime: Int64
    public var outcome: VersionMergeOutcome
    public var transitions: [LifecycleTransition]
    public var anomalies: [Anomaly]
    public var warmingUp: Bool
}

/// Applies merge requests to version states: the model's single entry point. Pure and
/// deterministic (time is the dump's own event time), so a replay yields identical state.
public enum ProfileMerge {
    /// The dump's event time: end of its window, else start, else when it was received.
    public static func eventTime(_ request: MergeRequest) -> Int64 {
        request.dump.end ?? request.dump.start ?? request.receivedAt
    }

    public static func apply(_ request: MergeRequest, to state: inout VersionState, config: ModelConfiguration) -> DumpMergeResult {
        let time = eventTime(request)
        for type in EventType.allCases where state.lifecycle[type] == nil {
            state.lifecycle[type] = EventTypeLifecycle(startedAt: time)
        }
        // A type is frozen for this dump only if it was stable when the dump's events happened:
        // a dump that predates stability (late delivery, another partition) is learning evidence,
        // within the grace of a late delivery; one that claims to be older than that is judged as
        // of when it was received (backdating must not teach a stable profile).
        let judgedAt = max(time, request.receivedAt.saturatingSubtracting(config.lateDeliveryGrace))
        let frozen = Set(state.lifecycle.filter { $0.value.isFrozen(at: judgedAt) }.keys)
        // Over the node cap a type stops learning (its lifecycle turns it unstable/too_large).
        let cap = state.overrides.applied(to: config.lifecycle).nodeCap
        let closed = Set(EventType.allCases.filter { state.version.nodeCount($0) > cap })
        let instanceID = request.dump.workload.instanceID
        let warmingUp = age(request, state.version) < config.warmupPeriod
        let outcome = state.version.merge(request.dump, at: time, receivedAt: request.receivedAt, frozen: frozen, closed: closed,
                                          warmingUp: warmingUp)
        // A snapshot is no lifecycle evidence (docs/model.md, Snapshots): its new nodes neither
        // restart the quiet period nor does it move the version toward a transition.
        let transitions: [LifecycleTransition]
        if request.dump.isSnapshot {
            transitions = []
        } else {
            for key in outcome.learned { state.lifecycle[key.type]?.sawNewNodes(at: time) }
            // Evaluate at the version's clock, so a late (older) dump does not turn time back.
            transitions = evaluate(&state, at: state.version.clock, config: config)
        }
        let anomalies = outcome.anomalies.map {
            Anomaly(profileKey: state.version.profileKey, imageTag: state.version.imageTag, node: $0, dumpID: request.dumpID,
                    instanceID: instanceID, at: time)
        }
        return DumpMergeResult(dumpID: request.dumpID, eventTime: time, outcome: outcome, transitions: transitions,
                               anomalies: anomalies, warmingUp: warmingUp)
    }

    /// How long the instance had been running when this dump was recorded: from the container's
    /// creation where the dump says it (agent clock against event time), else from the first time
    /// the broker saw one of its dumps (broker clock against this dump's record time), so a dump's
    /// own event times can neither start nor stretch the warm-up.
    /// Unknown or contradictory ages (negative, an instance from before broker times were kept)
    /// count as old: only evidence of a young container grants warm-up.
    /// When both are known, the older reading wins: a dump that claims a fresh container for an
    /// instance the broker has seen for hours gets no warm-up.
    static func age(_ request: MergeRequest, _ version: ProfileVersion) -> Int64 {
        var brokerAge: Int64?
        if let o = version.ordinal(of: request.dump.workload.instanceID) {
            guard let first = version.instance(o).firstReceived else { return .max }
            let age = request.receivedAt.saturatingSubtracting(first)
            brokerAge = age >= 0 ? age : .max
        }
        if let created = request.dump.workload.containerCreatedAt {
            let age = eventTime(request).saturatingSubtracting(created)
            return max(age >= 0 ? age : .max, brokerAge ?? 0)
        }
        if let brokerAge { return brokerAge }
        // The instance's first dump: warm-up only if its whole window is that short.
        guard let start = request.dump.start, let end = request.dump.end, end >= start else { return .max }
        return end.saturatingSubtracting(start)
    }

    /// Re-evaluates every learning type at `now` (the version clock, or the wall clock for a
    /// version that receives no dumps): quiet versions turn stable, or unstable past the limit.
    public static func evaluate(_ state: inout VersionState, at now: Int64, config: ModelConfiguration) -> [LifecycleTransition] {
        guard state.version.dumps > 0 else { return [] }
        let lifecycleConfig = state.overrides.applied(to: config.lifecycle)
        var transitions: [LifecycleTransition] = []
        for type in EventType.allCases {
            if let t = state.lifecycle[type]?.evaluate(type, version: state.version, now: now, config: lifecycleConfig) {
                transitions.append(t)
            }
        }
        return transitions
    }

    /// Learns the nodes of accepted anomalies, as seen once by the instance that showed them (an
    /// anomaly's dump merged into this version, so the instance is known; the first one stands in
    /// otherwise). A node already in the version is left as it is.
    public static func learnAccepted(_ accepted: [AcceptedAnomaly], into state: inout VersionState) -> VersionMergeOutcome {
        var outcome = VersionMergeOutcome()
        for a in accepted {
            let ordinal = state.version.ordinal(of: a.instanceID) ?? 0
            let o = state.version.accept(a.node, instance: ordinal, at: a.at)
            outcome.learned += o.learned
            outcome.touched.formUnion(o.touched)
        }
        return outcome
    }
}
