/// The record published on `security-anomalies`.
public struct AnomalyEvent: Codable, Sendable, Hashable {
    public var anomalyID: String
    public var profileKey: String
    public var imageTag: String
    public var eventType: EventType
    public var nodeKey: String
    /// Executable paths from the root process down to the process that showed the activity.
    public var lineage: [String]
    /// The activity itself (file path, DNS name and type, bind), empty for exec.
    public var activity: String?
    public var dumpID: String
    public var instanceID: String
    public var at: Int64

    public init(_ a: Anomaly) {
        anomalyID = a.id
        profileKey = a.profileKey
        imageTag = a.imageTag
        eventType = a.node.type
        nodeKey = a.node.value
        (lineage, activity) = a.node.parts
        dumpID = a.dumpID
        instanceID = a.instanceID
        at = a.at
    }

    enum CodingKeys: String, CodingKey {
        case anomalyID = "anomaly_id", profileKey = "profile_key", imageTag = "image_tag", eventType = "event_type",
             nodeKey = "node_key", lineage, activity, dumpID = "dump_id", instanceID = "instance_id", at
    }
}

extension ProfileNodeKey {
    /// The lineage and the activity part of the key.
    public var parts: (lineage: [String], activity: String?) {
        if let bar = value.firstRange(ofASCII: " | ") {
            return (value[..<bar.lowerBound].split(onASCII: ProfileNodeKey.lineageSeparator), String(value[bar.upperBound...]))
        }
        return (value.split(onASCII: ProfileNodeKey.lineageSeparator), nil)
    }
}

/// Limits anomaly events per instance of a workload: at most `limit` per `window` of event time.
/// Anomalies over the limit are still stored (and visible in PostgreSQL), just not published. The
/// budget belongs to (profile key, image tag, instance id): an instance id is the agent's word, so
/// a noisy or spoofed instance of one workload must not spend another workload's budget.
public struct AnomalyRateLimiter: Sendable {
    public var limit: Int
    public var window: Int64
    /// Budgets kept before expired ones are dropped (bounded memory).
    public var capacity = 100_000
    private var windows: [Budget: (start: Int64, count: Int)] = [:]

    public struct Budget: Hashable, Sendable {
        public var profileKey: String
        public var imageTag: String
        public var instanceID: String

        public init(profileKey: String, imageTag: String, instanceID: String) {
            self.profileKey = profileKey
            self.imageTag = imageTag
            self.instanceID = instanceID
        }
    }

    public init(limit: Int = 10, window: Int64 = 60 * 1_000_000_000) {
        self.limit = limit
        self.window = window
    }

    public mutating func allow(_ anomaly: Anomaly) -> Bool {
        allow(Budget(profileKey: anomaly.profileKey, imageTag: anomaly.imageTag, instanceID: anomaly.instanceID), at: anomaly.at)
    }

    public mutating func allow(_ budget: Budget, at time: Int64) -> Bool {
        var w = windows[budget] ?? (time, 0)
        if time - w.start >= window || time < w.start { w = (time, 0) }
        w.count += 1
        windows[budget] = w
        if windows.count > capacity {
            // Expired windows first; only a flood of live ones forgets every budget.
            let window = self.window
            windows = windows.filter { time - $0.value.start < window && $0.value.start <= time }
            if windows.count > capacity { windows.removeAll(keepingCapacity: true) }
        }
        return w.count <= limit
    }
}
