/// Writes a `BaselineContext` as JSON byte for byte as `JSONEncoder` with `[.sortedKeys,
/// .withoutEscapingSlashes]` writes it (members in key order, nil members left out, doubles as
/// `JSONEncoder` formats them), without the encoder's boxing: it was 13 % of the enricher's time.
/// `BaselineContextWriterTests` compares the two on generated and hostile contexts.
enum BaselineContextWriter {
    /// Appends the object to `out`; false (nothing appended) when a double is not finite, which
    /// only the encoder may answer (it throws).
    static func write(_ c: BaselineContext, into out: inout [UInt8]) -> Bool {
        if let n = c.node, !n.commonality.isFinite { return false }
        if let p = c.profileCommonality, !p.isFinite { return false }
        var w = JSONMembers(escapingSlashes: false)
        out.append(UInt8(ascii: "{"))
        w.bool("anomaly", c.anomaly, &out)
        w.int("dumps_merged", c.dumpsMerged, &out)
        w.string("event_type", c.eventType, &out)
        w.string("event_type_state", c.eventTypeState, &out)
        w.string("explanation", c.explanation, &out)
        w.string("image_tag", c.imageTag, &out)
        w.bool("in_profile", c.inProfile, &out)
        w.int("instances", c.instances, &out)
        w.string("lineage_boundary", c.lineageBoundary, &out)
        w.string("match", c.match, &out)
        if let n = c.node {
            w.key("node", &out)
            var nw = JSONMembers(escapingSlashes: false)
            out.append(UInt8(ascii: "{"))
            nw.double("commonality", n.commonality, &out)
            nw.int("dumps", n.dumps, &out)
            nw.int("first_seen", n.firstSeen, &out)
            nw.string("id", n.id, &out)
            nw.int("instances", n.instances, &out)
            nw.string("kind", n.kind, &out)
            nw.int("last_seen", n.lastSeen, &out)
            nw.key("lineage", &out)
            out.append(UInt8(ascii: "["))
            for (i, element) in n.lineage.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
            nw.string("path", n.path, &out)
            out.append(UInt8(ascii: "}"))
        }
        w.double("profile_commonality", c.profileCommonality, &out)
        w.string("profile_key", c.profileKey, &out)
        w.string("profile_state", c.profileState, &out)
        w.string("status", c.status.rawValue, &out)
        w.string("suggestion_id", c.suggestionID, &out)
        w.bool("suppressed", c.suppressed, &out)
        w.string("suppression_id", c.suppressionID, &out)
        if let warmingUp = c.warmingUp { w.bool("warming_up", warmingUp, &out) }
        out.append(UInt8(ascii: "}"))
        return true
    }
}
