/// The event types a profile learns separately.
public enum EventType: String, Codable, Sendable, CaseIterable, Comparable {
    case exec, file, dns, network

    public static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }
}
