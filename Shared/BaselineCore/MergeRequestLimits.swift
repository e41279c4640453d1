/// profile-merger's own look at what it reads from `profile-merge-requests`: the limits
/// dump-consumer applies at the edge (`DumpLimits`, `StorageLimits`, the event-time clamp), applied
/// again. The topic is internal, but anything with write access to it would otherwise bypass every
/// edge check (defence in depth). A request dump-consumer produced passes unchanged: its limits are
/// the same settings, and its times were already clamped against the `receivedAt` it set.
public struct MergeRequestLimits: Sendable, Hashable {
    public var dump: DumpLimits
    public var storage: StorageLimits
    public var times: EventTimePolicy

    public init(dump: DumpLimits = DumpLimits(), storage: StorageLimits = StorageLimits(), times: EventTimePolicy = EventTimePolicy()) {
        self.dump = dump
        self.storage = storage
        self.times = times
    }

    /// The request as the merger may merge it (times clamped), whether anything was clamped, or the
    /// first limit it breaks. `valueBytes`: the record value's size; `recordTime`: the record's own
    /// time (nanoseconds, nil when absent); `now`: the merger's clock, used only to distrust a record
    /// time from the future (so a replay of a genuine record is clamped identically).
    public func admit(_ request: MergeRequest, valueBytes: Int, recordTime: Int64?, now: Int64) throws(Rejection)
        -> (request: MergeRequest, clamped: Bool) {
        try storage.check(outputBytes: valueBytes)
        if request.schema != MergeRequest.schemaV1 {
            throw Rejection("unsupported_schema", "schema '\(request.schema.prefix(200))' is not supported (expected \(MergeRequest.schemaV1))")
        }
        try dump.normalized.check(request.dump)
        if request.dump.processes.isEmpty { throw Rejection("empty_tree", "the dump has no processes") }
        try storage.check(request)
        // receivedAt is dump-consumer's record time of the dump: never after this record's own time
        // (give or take clock skew), which is never after now. Only the future is distrusted: a
        // backlog older than maxBehind (the merger was down) must merge with its own times.
        let ceiling = now.saturatingAdding(times.maxAhead)
        let recorded = min(recordTime ?? now, ceiling)
        var out = request
        var clamped = false
        if out.receivedAt > recorded.saturatingAdding(times.maxAhead) {
            out.receivedAt = recorded
            clamped = true
        }
        let (dump, dumpClamped) = times.apply(to: out.dump, recordTime: out.receivedAt)
        if dumpClamped { out.dump = dump }
        return (out, clamped || dumpClamped)
    }

    /// A clock tick's identifiers must be what PostgreSQL stores (its time is bounded by the
    /// database's clock in the merge, and the anomalies it names are looked up there; its size is
    /// the broker's to bound: the relay's ticks may carry up to 500 accepted anomalies).
    public func admit(_ tick: ClockTick) throws(Rejection) {
        if tick.schema != ClockTick.schemaV1 {
            throw Rejection("unsupported_schema", "schema '\(tick.schema.prefix(200))' is not supported (expected \(ClockTick.schemaV1))")
        }
        for (name, value) in [("profile key", tick.profileKey), ("image tag", tick.imageTag)] {
            if value.utf8.count > storage.maxIdentifierBytes {
                throw Rejection("identifier_too_long", "the \(name) is \(value.utf8.count) bytes; at most \(storage.maxIdentifierBytes) are stored")
            }
            if value.utf8.contains(0) { throw Rejection("invalid_string", "the \(name) contains a NUL byte") }
        }
        // The accepted anomalies are looked up by id and instance: values PostgreSQL would refuse
        // would send the whole batch through one-by-one isolation, tick after tick.
        let accepted = tick.accepted ?? []
        if accepted.count > Self.maxAcceptedPerTick {
            throw Rejection("too_many_accepted", "the tick names \(accepted.count) accepted anomalies; at most \(Self.maxAcceptedPerTick)")
        }
        for a in accepted {
            if a.anomalyID.utf8.count > Self.maxAnomalyIDBytes {
                throw Rejection("identifier_too_long", "an accepted anomaly id is \(a.anomalyID.utf8.count) bytes; at most \(Self.maxAnomalyIDBytes)")
            }
            if a.instanceID.utf8.count > storage.maxIdentifierBytes {
                throw Rejection("identifier_too_long", "an accepted anomaly's instance id is \(a.instanceID.utf8.count) bytes; at most \(storage.maxIdentifierBytes)")
            }
            if a.anomalyID.utf8.contains(0) || a.instanceID.utf8.contains(0) || a.node.value.utf8.contains(0) {
                throw Rejection("invalid_string", "an accepted anomaly contains a NUL byte")
            }
        }
    }

    /// What the relay puts in one tick (AcceptedAnomalyRelay pages by this many).
    public static let maxAcceptedPerTick = 500
    /// Longer than any id `AnomalyID` makes (1,072 bytes at most) or stored before it bounded them
    /// (those PostgreSQL could index), shorter than a B-tree index entry allows (~2,700 bytes).
    public static let maxAnomalyIDBytes = 2_600
}
