import BaselineCore

/// A dump encoded for writing or sending.
public struct EncodedSnapshot: Sendable {
    public var dump: SnapshotDump
    public var bytes: [UInt8]
}

/// Encodes a snapshot's dumps and leaves out those too large to be sent or accepted: over
/// dump-consumer's payload limit, or over the producer's message size (librdkafka refuses a record
/// over `message.max.bytes` on the spot). Each one left out is a note; the others go on.
public struct SnapshotPayloads: Sendable {
    public var format: SnapshotFormat
    /// The largest record the producer may send (dump-consumer's default output bound).
    public var maxMessageBytes: Int
    public var limits: DumpLimits

    public init(format: SnapshotFormat, maxMessageBytes: Int = StorageLimits().maxOutputBytes, limits: DumpLimits = DumpLimits()) {
        self.format = format
        self.maxMessageBytes = maxMessageBytes
        self.limits = limits
    }

    public struct Result: Sendable {
        public var encoded: [EncodedSnapshot] = []
        public var tooLarge = 0
        public var notes: [String] = []
    }

    public func encode(_ dumps: [SnapshotDump]) -> Result {
        var result = Result()
        let bound = min(maxMessageBytes, limits.maxPayloadBytes)
        for dump in dumps {
            let name = "\(dump.workload.imageName) (\(dump.workload.instanceID))"
            do {
                let bytes = try format.encode(dump)
                if bytes.count > bound {
                    result.tooLarge += 1
                    result.notes.append("\(name): not produced, its dump is \(bytes.count) bytes, over the limit of \(bound)")
                    continue
                }
                result.encoded.append(EncodedSnapshot(dump: dump, bytes: bytes))
            } catch {
                result.tooLarge += 1
                result.notes.append("\(name): not produced, cannot encode it: \(error)")
            }
        }
        return result
    }
}
