import Foundation

/// Settings of signal enrichment.
public struct EnrichmentConfiguration: Sendable, Hashable {
    /// A suggestion needs the node's commonality at or above this.
    public var suggestionMinCommonality: Double = 0.8
    /// Event types whose in-profile signals of a stable profile are suppressed without a
    /// suppression (Datadog does this for exec and dns). Off by default.
    public var autoSuppress: Set<EventType> = []
    /// Activity within this time of the container's start (`container.created_at`) is warm-up:
    /// reported, never an anomaly (nanoseconds; the model's warm-up period).
    public var warmupPeriod: Int64 = ModelConfiguration().warmupPeriod

    public init() {}
}

/// The verdict for one signal: the `baseline` context and, maybe, a suggestion.
public struct EnrichmentResult: Sendable, Hashable {
    public var context: BaselineContext
    public var suggestion: SuppressionSuggestion?
    public var suppression: Suppression?
    /// The profile node the signal matched, else the node its activity would be: what the
    /// per-profile signal aggregates are keyed by (not part of the enriched signal).
    public var nodeKey: ProfileNodeKey?

    public init(context: BaselineContext, suggestion: SuppressionSuggestion? = nil, suppression: Suppression? = nil) {
        self.context = context
        self.suggestion = suggestion
        self.suppression = suppression
    }
}

/// Pure enrichment: given the signal, its workload and the profile version (if any).
public enum Enrichment {
    /// `isPublished` says which suggestion ids are known to be published already: their
    /// `suggestion_id` is still set, but the suggestion itself (query, explanation) is not built,
    /// since nothing would publish it again (most matched signals repeat a known suggestion).
    public static func enrich(_ signal: SecuritySignal, workload: Workload?, matcher: ProfileMatcher?,
                              suppressions: SuppressionIndex, config: EnrichmentConfiguration,
                              isPublished: (String) -> Bool = { _ in false }) -> EnrichmentResult {
        guard let workload else { return EnrichmentResult(context: .noProfile(workload: nil)) }
        guard let matcher else { return EnrichmentResult(context: .noProfile(workload: workload)) }
        let state = matcher.state
        let v = state.version
        let name = "\(v.profileKey):\(v.imageTag)"
        var ctx = BaselineContext(status: .profiled, profileKey: v.profileKey, imageTag: v.imageTag,
                                  profileState: state.overallState.rawValue, profileCommonality: round4(matcher.profileCommonality),
                                  instances: v.instances, dumpsMerged: v.dumps, explanation: "")
        guard let activity = SignalActivity(signal: signal) else {
            ctx.explanation = "\(name) is profiled, but '\(signal.eventName)' events (or this signal's fields) are not modelled by profiles"
            return EnrichmentResult(context: ctx)
        }
        let typeState = state.lifecycle[activity.type]?.state ?? .learning
        ctx.eventType = activity.type.rawValue
        ctx.eventTypeState = typeState.rawValue
        guard activity.boundary != .none, !activity.lineage.isEmpty else {
            ctx.match = "no_ancestry"
            ctx.explanation = "cannot compare with \(name): the signal does not carry the process's ancestry "
                + "(\(signal.ancestry == .parentOnly ? "only its parent" : "no ancestors")), so where \(describe(activity)) sits "
                + "in the process tree is unknown; it is neither matched nor suppressed"
            return EnrichmentResult(context: ctx)
        }
        ctx.lineageBoundary = activity.boundary.rawValue
        let warmingUp = isWarmingUp(signal, config)
        if warmingUp { ctx.warmingUp = true }
        guard let match = matcher.match(activity) else {
            ctx.match = "none"
            ctx.anomaly = typeState == .stable && !warmingUp
            ctx.explanation = typeState != .stable
                ? "not in profile: \(describe(activity)) was not seen yet for \(name); its \(activity.type.rawValue) baseline is \(typeState.rawValue), so this is no anomaly"
                : warmingUp
                ? "not in profile: \(describe(activity)) was never seen for \(name), but the container started less than \(config.warmupPeriod / 1_000_000_000) s before (warm-up: no anomaly)"
                : "not in profile: \(describe(activity)) was never seen for \(name), whose \(activity.type.rawValue) baseline is stable (anomaly)"
            var unmatched = EnrichmentResult(context: ctx)
            unmatched.nodeKey = activity.key(differentiateArgs: v.differentiateArgs)
            return unmatched
        }
        let (lineage, activityPart) = match.key.parts
        ctx.inProfile = true
        ctx.match = match.kind.rawValue
        ctx.node = .init(id: nodeID(match.key), kind: match.key.type.rawValue, path: activityPart ?? lineage.last ?? "",
                         lineage: lineage, commonality: round4(match.commonality), instances: match.stats.instances.count,
                         dumps: match.stats.dumps, firstSeen: match.stats.firstSeen, lastSeen: match.stats.lastSeen)
        let seen = "seen on \(match.stats.instances.count) of \(v.instances) instances (\(percent(match.commonality))) in \(match.stats.dumps) of \(v.dumps) dumps"
        let via = match.kind == .pattern ? " (as \(activityPart ?? "?"), a pattern mined from the profile)" : ""
        ctx.explanation = "in profile: \(describe(activity))\(via) \(seen); \(activity.type.rawValue) baseline is \(typeState.rawValue)"

        var result = EnrichmentResult(context: ctx)
        result.nodeKey = match.key
        if let rule = signal.ruleID, let s = suppressions.find(ruleID: rule, profileKey: v.profileKey, node: match.key) {
            result.context.suppressed = true
            result.context.suppressionID = s.id
            result.context.explanation += "; suppressed by \(s.id)"
            result.suppression = s
            return result
        }
        guard typeState == .stable else { return result }
        if config.autoSuppress.contains(activity.type) {
            result.context.suppressed = true
            result.context.suppressionID = "auto:\(activity.type.rawValue)"
            result.context.explanation += "; auto-suppressed (\(activity.type.rawValue) in a stable profile)"
            return result
        }
        if let rule = signal.ruleID, match.commonality >= config.suggestionMinCommonality {
            let id = SuppressionSuggestion.id(ruleID: rule, profileKey: v.profileKey, node: match.key)
            result.context.suggestionID = id
            guard !isPublished(id) else { return result }
            result.suggestion = SuppressionSuggestion(
                suggestionID: id, ruleID: rule, profileKey: v.profileKey, imageTag: v.imageTag, eventType: match.key.type,
                nodeKey: match.key.value, lineage: lineage, activity: activityPart,
                query: SuppressionSuggestion.query(profileKey: v.profileKey, activity: activity, matched: match.key,
                                                   differentiateArgs: v.differentiateArgs),
                commonality: round4(match.commonality),
                instances: match.stats.instances.count, instancesTotal: v.instances, dumps: match.stats.dumps, dumpsMerged: v.dumps,
                explanation: "rule \(rule) matched known behaviour of the stable profile \(name): \(describe(activity))\(via) \(seen)")
        }
        return result
    }

    /// Whether the signal happened within the warm-up period of its container's start.
    static func isWarmingUp(_ signal: SecuritySignal, _ config: EnrichmentConfiguration) -> Bool {
        guard let created = signal.containerCreatedAt, let at = signal.date else { return false }
        let age = at.saturatingSubtracting(created)
        return age >= 0 && age < config.warmupPeriod
    }

    static func describe(_ a: SignalActivity) -> String {
        let process = a.process.map { p in MultiCallBinaries.isMultiCall(p.path) ? "\(p.path) (\(p.argv0 ?? "?"))" : p.path } ?? "?"
        switch a.type {
        case .exec: return "exec of \(process)"
        case .file: return "\(process) opening \(a.activity ?? "?")"
        case .dns: return "\(process) resolving \(a.activity ?? "?")"
        case .network: return "\(process) binding \(a.activity ?? "?")"
        case .syscall: return "\(process) calling \(a.activity ?? "?")"
        case .capability: return "\(process) using \(a.activity ?? "?")"
        }
    }

    static func nodeID(_ key: ProfileNodeKey) -> String {
        // The suggestion id's hash under another prefix ("sug-" + hex: the prefix occurs once).
        "node-" + SuppressionSuggestion.id(ruleID: "", profileKey: "", node: key).dropFirst(4)
    }

    static func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
    static func percent(_ x: Double) -> String { "\(Int((x * 100).rounded())) %" }
}
