/// The event types a profile learns separately. `syscall` and `capability` are learned from
/// dumps (per process) but signals do not map to them yet.
public enum EventType: String, Codable, Sendable, CaseIterable, Comparable {
    case exec, file, dns, network, syscall, capability

    public static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }
}
