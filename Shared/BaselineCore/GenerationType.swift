/// Where a dump's nodes came from, as its `generation_type` fields say (Datadog's
/// `ProcessActivityNode.generation_type`: RUNTIME, SNAPSHOT; Baseline's snapshot encoding writes
/// `snapshot` on every node). A dump is a snapshot when every process node says so and no file node
/// says otherwise: an agent's dump that starts with a snapshot and then records runtime activity
/// has runtime nodes, and is a runtime dump.
enum GenerationType {
    /// Whether the process trees (JSON objects, `children` below each) are a snapshot.
    static func isSnapshot(_ roots: [[String: Any]]) -> Bool {
        var sawProcess = false
        func snapshot(_ value: Any?) -> Bool {
            if let s = value as? String { return s.lowercased() == ActivityDump.snapshotGenerationType }
            // The protobuf enum's number where the mapping kept it.
            return LenientJSON.int64(value) == 2
        }
        func files(_ nodes: [[String: Any]]) -> Bool {
            nodes.allSatisfy { f in (f["generation_type"] == nil || snapshot(f["generation_type"])) && files(LenientJSON.objects(f["children"])) }
        }
        func walk(_ nodes: [[String: Any]], depth: Int) -> Bool {
            // Deeper than any accepted dump: not worth a stack (the limits reject it anyway).
            if depth > 1024 { return false }
            for n in nodes {
                sawProcess = true
                guard snapshot(n["generation_type"]), files(LenientJSON.objects(n["files"])),
                      walk(LenientJSON.objects(n["children"]), depth: depth + 1) else { return false }
            }
            return true
        }
        return walk(roots, depth: 1) && sawProcess
    }
}
