/// The `baseline` object added to every enriched signal: the profile context and the verdict.
public struct BaselineContext: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable {
        /// No workload could be resolved from the signal.
        case unknownWorkload = "unknown_workload"
        /// The workload is known but has no profile (yet).
        case noProfile = "no_profile"
        /// A profile exists for the workload.
        case profiled
    }

    public struct MatchedNode: Codable, Sendable, Hashable {
        public var id: String
        public var kind: String
        public var path: String
        public var lineage: [String]
        public var commonality: Double
        public var instances: Int
        public var dumps: Int
        public var firstSeen: Int64?
        public var lastSeen: Int64?

        public init(id: String, kind: String, path: String, lineage: [String], commonality: Double, instances: Int, dumps: Int,
                    firstSeen: Int64?, lastSeen: Int64?) {
            self.id = id
            self.kind = kind
            self.path = path
            self.lineage = lineage
            self.commonality = commonality
            self.instances = instances
            self.dumps = dumps
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
        }

        enum CodingKeys: String, CodingKey {
            case id, kind, path, lineage, commonality, instances, dumps, firstSeen = "first_seen", lastSeen = "last_seen"
        }
    }

    public var status: Status
    public var profileKey: String?
    public var imageTag: String?
    /// Event type the signal maps to (exec, file, dns, network).
    public var eventType: String?
    /// State of that event type in the profile version (learning, stable, unstable, …).
    public var eventTypeState: String?
    /// Overall state of the profile version.
    public var profileState: String?
    public var inProfile: Bool
    /// How the signal's activity was compared: `exact` (the node), `pattern` (a mined file
    /// pattern), `none` (not in the profile), `no_ancestry` (the signal does not say where its
    /// process sits in the tree, so it is never matched, suggested or suppressed).
    public var match: String?
    /// How the top of the signal's lineage was found: `container` (per-ancestor container ids),
    /// `runtime` (known container runtimes stripped: the signal gave no container per ancestor),
    /// `unbounded` (neither: the whole chain).
    public var lineageBoundary: String?
    /// The container started less than the warm-up period before the event: never an anomaly.
    public var warmingUp: Bool?
    public var node: MatchedNode?
    public var profileCommonality: Double?
    public var instances: Int?
    public var dumpsMerged: Int?
    public var anomaly: Bool
    public var suppressed: Bool
    public var suppressionID: String?
    public var suggestionID: String?
    public var explanation: String

    public init(status: Status, profileKey: String? = nil, imageTag: String? = nil, eventType: String? = nil,
                eventTypeState: String? = nil, profileState: String? = nil, inProfile: Bool = false, node: MatchedNode? = nil,
                profileCommonality: Double? = nil, instances: Int? = nil, dumpsMerged: Int? = nil, anomaly: Bool = false,
                suppressed: Bool = false, suppressionID: String? = nil, suggestionID: String? = nil, explanation: String) {
        self.status = status
        self.profileKey = profileKey
        self.imageTag = imageTag
        self.eventType = eventType
        self.eventTypeState = eventTypeState
        self.profileState = profileState
        self.inProfile = inProfile
        self.node = node
        self.profileCommonality = profileCommonality
        self.instances = instances
        self.dumpsMerged = dumpsMerged
        self.anomaly = anomaly
        self.suppressed = suppressed
        self.suppressionID = suppressionID
        self.suggestionID = suggestionID
        self.explanation = explanation
    }

    enum CodingKeys: String, CodingKey {
        case status, profileKey = "profile_key", imageTag = "image_tag", eventType = "event_type",
             eventTypeState = "event_type_state", profileState = "profile_state", inProfile = "in_profile", match,
             lineageBoundary = "lineage_boundary", warmingUp = "warming_up", node,
             profileCommonality = "profile_commonality", instances, dumpsMerged = "dumps_merged", anomaly, suppressed,
             suppressionID = "suppression_id", suggestionID = "suggestion_id", explanation
    }

    public static func noProfile(workload: Workload?) -> BaselineContext {
        guard let workload else {
            return BaselineContext(status: .unknownWorkload,
                                   explanation: "no workload could be resolved from the signal's tags or container id")
        }
        return BaselineContext(status: .noProfile, profileKey: workload.profileKey, imageTag: workload.imageTag,
                               explanation: "no security profile exists yet for \(workload.profileKey):\(workload.imageTag)")
    }
}
