import Foundation

/// `baseline dump send --retime`: shifts the event times of JSON dumps (Baseline's `start`, `end`,
/// `workload.container_created_at`; Datadog's `metadata.start`/`end`) by one offset, so the newest
/// dump ends a minute ago and the spacing between dumps is kept. Sample dumps recorded long ago
/// would otherwise be clamped to their record time by dump-consumer's plausibility check.
enum DumpRetimer {
    /// The latest event time in a JSON dump, if it has one.
    static func latest(_ bytes: [UInt8]) -> Int64? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        let metadata = object["metadata"] as? [String: Any]
        return [object["end"], object["start"], metadata?["end"], metadata?["start"]].compactMap(int64).max()
    }

    /// The dump with its times moved by `delta` nanoseconds (non-JSON payloads unchanged).
    static func shifted(_ bytes: [UInt8], by delta: Int64) -> [UInt8] {
        guard var object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return bytes }
        for key in ["start", "end"] { if let v = int64(object[key]) { object[key] = v.addingReportingOverflow(delta).partialValue } }
        if var workload = object["workload"] as? [String: Any], let v = int64(workload["container_created_at"]) {
            workload["container_created_at"] = v.addingReportingOverflow(delta).partialValue
            object["workload"] = workload
        }
        if var metadata = object["metadata"] as? [String: Any] {
            // Datadog's JSON carries 64-bit integers as strings.
            for key in ["start", "end"] { if let v = int64(metadata[key]) { metadata[key] = String(v.addingReportingOverflow(delta).partialValue) } }
            object["metadata"] = metadata
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return bytes }
        return Array(data)
    }

    static func int64(_ v: Any?) -> Int64? {
        switch v {
        case let s as String: return Int64(s)
        case let n as NSNumber: return n.int64Value
        default: return nil
        }
    }
}
