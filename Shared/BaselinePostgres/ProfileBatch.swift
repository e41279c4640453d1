import BaselineCore

/// Everything one merge batch writes, applied in one transaction with the consumed offsets.
public struct ProfileBatch: Sendable {
    /// Dumps merged (new ones only).
    public var dumps: [MergedDumpRow] = []
    /// Final state of every version the batch touched, with the node keys to write and delete.
    public var versions: [TouchedVersion] = []
    public var transitions: [(transition: LifecycleTransition, profileKey: String, imageTag: String, dumpID: String?)] = []
    public var anomalies: [Anomaly] = []
    /// Accepted anomalies whose nodes this batch learned.
    public var learnedAnomalies: [String] = []
    public var offsets: [StoredOffset] = []
    /// The first offset of each partition in the batch: the transaction proceeds only if the stored
    /// offset has not moved past it (another member owns the partition now: fencing).
    public var firstOffsets: [StoredOffset] = []

    public init() {}

    public struct TouchedVersion: Sendable {
        public var state: VersionState
        public var touched: Set<ProfileNodeKey>
        public var removed: Set<ProfileNodeKey>
        public var instances: InstanceSet
        /// False when only the clock re-evaluated the version (no dump merged).
        public var dumpsMerged: Bool

        public init(state: VersionState, touched: Set<ProfileNodeKey>, removed: Set<ProfileNodeKey>, instances: InstanceSet,
                    dumpsMerged: Bool = true) {
            self.state = state
            self.touched = touched
            self.removed = removed
            self.instances = instances
            self.dumpsMerged = dumpsMerged
        }
    }
}
