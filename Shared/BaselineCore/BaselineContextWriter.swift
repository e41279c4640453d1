/// Writes a `BaselineContext` as JSON byte for byte as `JSONEncoder` with `[.sortedKeys,
/// .withoutEscapingSlashes]` writes it (members in key order, nil members left out, doubles as
/// `JSONEncoder` formats them), without the encoder's boxing: it was 13 % of the enricher's time.
/// `FastPathEquivalenceTests`-style tests compare the two on generated and hostile contexts.
enum BaselineContextWriter {
    /// Appends the object to `out`; false (nothing appended) when a double is not finite, which
    /// only the encoder may answer (it throws).
    static func write(_ c: BaselineContext, into out: inout [UInt8]) -> Bool {
        if let n = c.node, !n.commonality.isFinite { return false }
        if let p = c.profileCommonality, !p.isFinite { return false }
        var w = Members()
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
            var nw = Members()
            out.append(UInt8(ascii: "{"))
            nw.double("commonality", n.commonality, &out)
            nw.int("dumps", n.dumps, &out)
            nw.int("first_seen", n.firstSeen.map(Int.init), &out)
            nw.string("id", n.id, &out)
            nw.int("instances", n.instances, &out)
            nw.string("kind", n.kind, &out)
            nw.int("last_seen", n.lastSeen.map(Int.init), &out)
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

    /// One object's members, written in the order given (the caller gives them sorted).
    struct Members {
        var first = true

        mutating func key(_ k: StaticString, _ out: inout [UInt8]) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }

        mutating func string(_ k: StaticString, _ v: String?, _ out: inout [UInt8]) {
            guard let v else { return }
            key(k, &out)
            JSONText.appendString(v, to: &out)
        }

        mutating func bool(_ k: StaticString, _ v: Bool, _ out: inout [UInt8]) {
            key(k, &out)
            if v {
                out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
            } else {
                out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
            }
        }

        mutating func int(_ k: StaticString, _ v: Int?, _ out: inout [UInt8]) {
            guard let v else { return }
            key(k, &out)
            out.append(contentsOf: String(v).utf8)
        }

        mutating func double(_ k: StaticString, _ v: Double?, _ out: inout [UInt8]) {
            guard let v else { return }
            key(k, &out)
            JSONText.appendDouble(v, to: &out)
        }
    }
}

/// JSON text as `JSONEncoder` writes it.
enum JSONText {
    /// A string literal: `"` and `\` escaped, the control characters with a short escape where
    /// JSON has one (\b \t \n \f \r), else `\u00xx`; everything else as is (no `/` escape).
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(c >> 4)], hex[Int(c & 0xF)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A finite double: Swift's shortest round-trip text without a trailing `.0`.
    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        var text = d.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
    }
}
