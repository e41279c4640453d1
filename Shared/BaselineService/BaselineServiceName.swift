/// A Baseline service: one executable, one process per instance, configured by its environment.
public enum BaselineServiceName: String, CaseIterable, Sendable {
    case dumpConsumer = "dump-consumer"
    case profileMerger = "profile-merger"
    case signalEnricher = "signal-enricher"
    case profileAPI = "profile-api"
}
