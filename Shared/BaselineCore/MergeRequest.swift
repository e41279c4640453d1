/// What the dump-consumer puts on `profile-merge-requests` (keyed by profile key): a normalised
/// dump with a stable id for idempotency and where it came from.
public struct MergeRequest: Codable, Hashable, Sendable {
    public static let schemaV1 = "baseline.merge-request/v1"

    public var schema: String
    /// Stable id: the dump's own id, else a content hash. Merging an id twice is a no-op.
    public var dumpID: String
    /// The input format the dump arrived in (e.g. `baseline-json`, `datadog-json`, `datadog-protobuf`).
    public var sourceFormat: String
    public var receivedAt: Int64
    public var dump: ActivityDump

    public init(dumpID: String, sourceFormat: String, receivedAt: Int64, dump: ActivityDump) {
        self.schema = Self.schemaV1
        self.dumpID = dumpID
        self.sourceFormat = sourceFormat
        self.receivedAt = receivedAt
        self.dump = dump
    }

    enum CodingKeys: String, CodingKey {
        case schema, dumpID = "dump_id", sourceFormat = "source_format", receivedAt = "received_at", dump
    }

    public var profileKey: String { dump.workload.profileKey }
}
