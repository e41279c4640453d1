/// Who produced an activity dump: the workload (image) and the instance (container) it ran as.
public struct Workload: Codable, Hashable, Sendable {
    /// Image name, the profile key (e.g. `nginx`).
    public var imageName: String
    /// Image tag, the profile version (`latest` when the dump does not say).
    public var imageTag: String
    public var service: String?
    /// The workload instance: the container id, else host + cgroup.
    public var containerID: String?
    public var host: String?
    public var cluster: String?
    public var namespace: String?
    /// When the container started (nanoseconds), where the agent says it: warm-up runs from here.
    public var containerCreatedAt: Int64?

    public init(imageName: String, imageTag: String = "latest", service: String? = nil, containerID: String? = nil,
                host: String? = nil, cluster: String? = nil, namespace: String? = nil) {
        self.imageName = imageName
        self.imageTag = imageTag
        self.service = service
        self.containerID = containerID
        self.host = host
        self.cluster = cluster
        self.namespace = namespace
    }

    /// The profile this workload merges into.
    public var profileKey: String { imageName }

    /// A stable id for the instance that recorded the dump.
    public var instanceID: String { containerID ?? "\(host ?? "unknown-host")/\(service ?? imageName)" }

    enum CodingKeys: String, CodingKey {
        case imageName = "image_name", imageTag = "image_tag", service, containerID = "container_id", host, cluster, namespace,
             containerCreatedAt = "container_created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageName = try c.decodeIfPresent(String.self, forKey: .imageName) ?? ""
        let tag = try c.decodeIfPresent(String.self, forKey: .imageTag) ?? ""
        imageTag = tag.isEmpty ? "latest" : tag
        service = try c.decodeIfPresent(String.self, forKey: .service)
        containerID = try c.decodeIfPresent(String.self, forKey: .containerID)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        cluster = try c.decodeIfPresent(String.self, forKey: .cluster)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace)
        containerCreatedAt = try c.decodeIfPresent(Int64.self, forKey: .containerCreatedAt)
    }
}
