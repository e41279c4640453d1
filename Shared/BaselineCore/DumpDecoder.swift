import Crypto
import Foundation

/// Turns the bytes of an `activity-dumps` message into a normalised `MergeRequest`, or a
/// `Rejection` saying why not. Pure: no I/O. Accepted formats (docs/dump-formats.md):
/// Baseline's JSON (`baseline-json`), Datadog's SecDump as protobuf JSON (`datadog-json`) or binary
/// protobuf (`datadog-protobuf`), each optionally gzip-compressed.
public struct DumpDecoder: Sendable {
    public enum Format: String, Sendable {
        case baselineJSON = "baseline-json"
        case datadogJSON = "datadog-json"
        case datadogProtobuf = "datadog-protobuf"
    }

    public var limits: DumpLimits
    let normalizer = DumpNormalizer()

    public init(limits: DumpLimits = DumpLimits()) {
        self.limits = limits
    }

    public func decode(_ bytes: [UInt8], contentType: String? = nil, receivedAt: Int64) throws(Rejection) -> MergeRequest {
        let (format, raw) = try decodeRaw(bytes, contentType: contentType)
        try limits.check(raw)
        let dump = normalizer.normalize(raw)
        if dump.processes.isEmpty { throw Rejection("empty_tree", "the dump has no processes") }
        return MergeRequest(dumpID: dump.id ?? Self.contentID(of: dump), sourceFormat: format.rawValue,
                            receivedAt: receivedAt, dump: dump)
    }

    /// Decodes without limits on the tree or normalisation (the format step alone).
    public func decodeRaw(_ input: [UInt8], contentType: String? = nil) throws(Rejection) -> (Format, ActivityDump) {
        try decodeRaw(input, contentType: contentType, scanning: true)
    }

    /// `scanning: false` leaves the fast path out (what the equivalence tests compare it with).
    func decodeRaw(_ input: [UInt8], contentType: String?, scanning: Bool) throws(Rejection) -> (Format, ActivityDump) {
        if input.isEmpty { throw Rejection("empty_payload", "the message has no payload") }
        if input.count > limits.maxPayloadBytes {
            throw Rejection("payload_too_large", "the payload is \(input.count) bytes, over the limit of \(limits.maxPayloadBytes)")
        }
        var bytes = input
        if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, maxOutput: limits.maxDecompressedBytes) }
        let type = contentType?.lowercased() ?? ""
        let first = bytes.first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }
        let looksLikeJSON = first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        if type.contains("protobuf") || (!type.contains("json") && !looksLikeJSON) {
            let root = try DatadogDumpProtobuf.decode(bytes, maxNesting: limits.maxDepth, budget: ElementBudget(limits))
            return (.datadogProtobuf, try DatadogDump.convert(root))
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Rejection("invalid_utf8", "the JSON payload is not valid UTF-8")
        }
        if let rejection = LenientJSON.preflight(bytes, maxDepth: limits.maxJSONDepth, maxArray: limits.maxChildren,
                                                 maxValues: limits.maxJSONValues) {
            throw rejection
        }
        // Baseline's own dumps (nearly all) without Foundation's tree: a scan of the top-level
        // members says what the tree would (DumpHeadScanner); anything else takes the tree.
        if scanning, let head = DumpHeadScanner.scan(bytes, maxDepth: min(limits.maxJSONDepth, DumpHeadScanner.maxDepth)), head.isBaseline,
           !head.firstProcessHasGenerationType {
            return (.baselineJSON, try baseline(bytes, schema: head.schema, scanning: true, nodesSayItIsASnapshot: { false }))
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw Rejection("invalid_json", "malformed JSON: \(Self.jsonError(error))")
        }
        guard let root = object as? [String: Any] else { throw Rejection("invalid_json", "the dump must be a JSON object") }
        if root["workload"] != nil || (root["schema"] as? String)?.hasPrefix("baseline.") == true {
            return (.baselineJSON, try baseline(bytes, schema: root["schema"] as? String, scanning: scanning, nodesSayItIsASnapshot: {
                GenerationType.isSnapshot(LenientJSON.objects(root["processes"]))
            }))
        }
        if root["tree"] != nil || root["metadata"] != nil {
            return (.datadogJSON, try DatadogDump.convert(root))
        }
        throw Rejection("unknown_format", "a JSON object that is neither a Baseline dump (workload, processes) nor a Datadog SecDump (metadata, tree)")
    }

    /// A Baseline dump, given its `schema` member (when a string) and whether its process nodes
    /// say it is a snapshot (older snapshot encodings); `scanning: false` leaves the fast path out.
    func baseline(_ bytes: [UInt8], schema: String?, scanning: Bool, nodesSayItIsASnapshot: () -> Bool) throws(Rejection) -> ActivityDump {
        if let schema, schema != ActivityDump.schemaV1 {
            throw Rejection("unsupported_schema", "schema '\(schema)' is not supported (expected \(ActivityDump.schemaV1))")
        }
        var dump: ActivityDump
        do {
            // The one-pass reader for plain dumps; the decoder (and its errors) for the rest.
            if scanning, let read = ActivityDumpReader.dump(bytes) {
                dump = read
            } else {
                dump = try JSONDecoder().decode(ActivityDump.self, from: Data(bytes))
            }
        } catch let error as DecodingError {
            throw Rejection("invalid_field", "not a valid Baseline activity dump: \(Self.describe(error))")
        } catch {
            throw Rejection("invalid_field", "not a valid Baseline activity dump: \(error)")
        }
        let w = dump.workload
        dump.workload = try DumpWorkload.resolve(imageName: w.imageName, imageTag: w.imageTag, service: w.service,
                                                 containerID: w.containerID, host: w.host, cluster: w.cluster, namespace: w.namespace)
        // The container's start is what warm-up runs from (ProfileMerge.age); resolving must keep it.
        dump.workload.containerCreatedAt = w.containerCreatedAt
        // A snapshot says so at the top (`generation_type`), or on every node (older snapshot encodings).
        if !dump.isSnapshot { dump.isSnapshot = nodesSayItIsASnapshot() }
        return dump
    }

    /// A content hash of the normalised dump (sorted-key JSON), so the same dump sent twice,
    /// in any format, gets the same id.
    public static func contentID(of dump: ActivityDump) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(dump)) ?? Data()
        return "sha256:" + Hex.lowercase(SHA256.hash(data: data))
    }

    static func jsonError(_ error: any Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return p.isEmpty ? "" : " at \(p)"
        }
        switch error {
        case .dataCorrupted(let c): return "malformed value\(path(c)): \(c.debugDescription)"
        case .keyNotFound(let k, let c): return "missing field '\(k.stringValue)'\(path(c))"
        case .typeMismatch(let t, let c): return "wrong type\(path(c)): expected \(t)"
        case .valueNotFound(let t, let c): return "null where \(t) is required\(path(c))"
        @unknown default: return "\(error)"
        }
    }
}
