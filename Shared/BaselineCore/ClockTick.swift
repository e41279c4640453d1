/// "Re-evaluate this version at `at`": what the profile-merger's sweep puts on
/// `profile-merge-requests` (keyed by profile, so it is ordered with the profile's dumps) for
/// versions that receive no dumps. A quiet version turns stable by the clock, or unstable past the
/// learning limit. The time travels in the message, so a replay re-evaluates identically.
public struct ClockTick: Codable, Hashable, Sendable {
    public static let schemaV1 = "baseline.clock-tick/v1"

    public var schema: String
    public var profileKey: String
    public var imageTag: String
    /// Wall-clock time of the sweep, nanoseconds since the epoch.
    public var at: Int64
    /// Anomalies a user accepted: their nodes are learned into the version, in order with its dumps.
    public var accepted: [AcceptedAnomaly]?

    public init(profileKey: String, imageTag: String, at: Int64) {
        schema = Self.schemaV1
        self.profileKey = profileKey
        self.imageTag = imageTag
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case schema, profileKey = "profile_key", imageTag = "image_tag", at, accepted
    }
}

/// An anomaly accepted through the API: "this node is normal for the version".
public struct AcceptedAnomaly: Codable, Hashable, Sendable {
    public var anomalyID: String
    public var node: ProfileNodeKey
    public var instanceID: String
    public var at: Int64

    public init(anomalyID: String, node: ProfileNodeKey, instanceID: String, at: Int64) {
        self.anomalyID = anomalyID
        self.node = node
        self.instanceID = instanceID
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case anomalyID = "anomaly_id", node, instanceID = "instance_id", at
    }
}
