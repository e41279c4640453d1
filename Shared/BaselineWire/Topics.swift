/// Topic names: part of Baseline's public contract (README, "Topics").
public enum Topics {
    public static let activityDumps = "activity-dumps"
    public static let activityDumpsDLQ = "activity-dumps.dlq"
    public static let profileMergeRequests = "profile-merge-requests"
    public static let profileUpdates = "profile-updates"
    public static let securitySignals = "security-signals"
    public static let securitySignalsEnriched = "security-signals.enriched"
    public static let suppressionSuggestions = "suppression-suggestions"
    public static let securityAnomalies = "security-anomalies"
    public static let securitySignalsDLQ = "security-signals.dlq"
    /// Merge requests profile-merger failed on every time (alone, after retries), with the reason.
    public static let profileMergeRequestsDLQ = "profile-merge-requests.dlq"

    public static let all = [
        activityDumps, activityDumpsDLQ, profileMergeRequests, profileUpdates, securitySignals,
        securitySignalsEnriched, suppressionSuggestions, securityAnomalies, securitySignalsDLQ, profileMergeRequestsDLQ,
    ]

    /// Where the messages of `topic` that cannot be processed go: `<topic>.dlq`.
    public static func deadLetters(of topic: String) -> String { topic + ".dlq" }

    /// Partitions of each topic the services create when it is missing (`BASELINE_TOPIC_PARTITIONS`).
    /// Keyed topics keep one key's messages in order whatever the count; more partitions, more
    /// members of a group that can work at once.
    public static let defaultPartitions: Int32 = 4
}
