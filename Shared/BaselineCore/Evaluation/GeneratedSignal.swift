/// One generated security signal with its ground truth.
public struct GeneratedSignal: Sendable, Hashable, Codable {
    /// Also the signal's top-level `"id"`, so enriched output joins back to its ground truth.
    public var id: String
    public var kind: SignalKind
    public var imageName: String
    public var imageTag: String
    public var containerID: String
    /// `evt.name`: exec, open, dns or bind.
    public var eventType: String
    /// The signal as Datadog security-event JSON (UTF-8), ready for `security-signals`.
    public var bytes: [UInt8]

    public init(id: String, kind: SignalKind, imageName: String, imageTag: String, containerID: String, eventType: String,
                bytes: [UInt8]) {
        self.id = id
        self.kind = kind
        self.imageName = imageName
        self.imageTag = imageTag
        self.containerID = containerID
        self.eventType = eventType
        self.bytes = bytes
    }

    /// What a correct enricher says about this signal.
    public var expected: ExpectedVerdict { kind.expected }

    /// The signal JSON as text.
    public var json: String { String(decoding: bytes, as: UTF8.self) }

    enum CodingKeys: String, CodingKey {
        case id, kind, imageName = "image_name", imageTag = "image_tag", containerID = "container_id", eventType = "event_type",
             signal, expected
    }

    /// Ground-truth files carry the signal as a JSON string (`signal`) plus the expected verdict.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(imageName, forKey: .imageName)
        try c.encode(imageTag, forKey: .imageTag)
        try c.encode(containerID, forKey: .containerID)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(json, forKey: .signal)
        try c.encode(expected, forKey: .expected)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(SignalKind.self, forKey: .kind)
        imageName = try c.decode(String.self, forKey: .imageName)
        imageTag = try c.decode(String.self, forKey: .imageTag)
        containerID = try c.decode(String.self, forKey: .containerID)
        eventType = try c.decode(String.self, forKey: .eventType)
        bytes = Array(try c.decode(String.self, forKey: .signal).utf8)
    }
}
