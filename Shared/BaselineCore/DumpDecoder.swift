import Crypto
import Foundation

/// Turns the bytes of an `activity-dumps` message into a `MergeRequest`, or a `Rejection`
/// saying why not. Pure: no I/O.
public struct DumpDecoder: Sendable {
    public init() {}

    public func decode(_ bytes: [UInt8], contentType: String? = nil, receivedAt: Int64) throws(Rejection) -> MergeRequest {
        if bytes.isEmpty { throw Rejection("empty_payload", "the message has no payload") }
        let dump: ActivityDump
        do {
            dump = try JSONDecoder().decode(ActivityDump.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Rejection("invalid_json", "not a Baseline activity dump: \(Self.describe(error))")
        } catch {
            throw Rejection("invalid_json", "not a Baseline activity dump: \(error)")
        }
        guard !dump.workload.imageName.isEmpty else {
            throw Rejection("missing_workload", "the dump names no image (workload.image_name)")
        }
        return MergeRequest(dumpID: dump.id ?? Self.contentID(of: dump), sourceFormat: "baseline-json",
                            receivedAt: receivedAt, dump: dump)
    }

    /// A content hash of the normalised dump (sorted-key JSON), so the same dump sent twice,
    /// in any format, gets the same id.
    public static func contentID(of dump: ActivityDump) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(dump)) ?? Data()
        return "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return p.isEmpty ? "" : " at \(p)"
        }
        switch error {
        case .dataCorrupted(let c): return "malformed JSON\(path(c)): \(c.debugDescription)"
        case .keyNotFound(let k, let c): return "missing field '\(k.stringValue)'\(path(c))"
        case .typeMismatch(let t, let c): return "wrong type\(path(c)): expected \(t)"
        case .valueNotFound(let t, let c): return "null where \(t) is required\(path(c))"
        @unknown default: return "\(error)"
        }
    }
}
