/// Published on `profile-updates` after each merge commit, for caches (signal-enricher).
public struct ProfileUpdate: Codable, Sendable, Hashable {
    public var profileKey: String
    public var imageTag: String
    /// Monotonically increasing per profile.
    public var revision: Int64
    public var dumpsMerged: Int64
    public var instances: Int64
    /// State per event type (exec, file, dns, network).
    public var states: [String: String]

    public init(profileKey: String, imageTag: String, revision: Int64, dumpsMerged: Int64, instances: Int64,
                states: [String: String] = [:]) {
        self.profileKey = profileKey
        self.imageTag = imageTag
        self.revision = revision
        self.dumpsMerged = dumpsMerged
        self.instances = instances
        self.states = states
    }

    enum CodingKeys: String, CodingKey {
        case profileKey = "profile_key", imageTag = "image_tag", revision, dumpsMerged = "dumps_merged", instances, states
    }
}
