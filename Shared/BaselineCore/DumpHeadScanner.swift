/// What `DumpDecoder` needs to know about a JSON dump before decoding it (its format, its
/// `schema`, whether its nodes may say `generation_type`), taken in one pass over the bytes
/// instead of Foundation's `JSONSerialization` tree (that pass and `JSONDecoder`'s over the same
/// bytes were 42 % of the dump-consumer's time).
///
/// A fast path with the rules of `JSONByteReader`: nil for anything outside its plain subset of
/// JSON (an exponent, a surrogate escape, a trailing comma, a top-level key with an escape or a
/// non-ASCII byte, a top-level member it reads given twice, …), and then the decoder builds the
/// tree as before. `DumpHeadEquivalenceTests` compares both paths on fuzzed dumps.
struct DumpHeadScanner {
    /// `workload` is present (any value, `null` too: the tree's `root["workload"] != nil`).
    var hasWorkload = false
    var hasTree = false
    var hasMetadata = false
    /// `schema` when it is a string; nil when absent or of another type.
    var schema: String?
    /// The first object in `processes` has a `generation_type` member: only the tree can say
    /// whether the dump is a snapshot. Without one, it is not (`GenerationType.isSnapshot`).
    var firstProcessHasGenerationType = false

    /// The dump as the tree would classify it.
    var isBaseline: Bool { hasWorkload || schema?.hasPrefix("baseline.") == true }

    /// Dumps carry nanosecond timestamps (19 digits); Foundation reads integers of 30 digits.
    static let maxIntegerDigits = 20
    /// Deeper dumps (over 30 process levels) take the tree, with its own bounded recursion.
    static let maxDepth = 128
    static let keys: [StaticString] = ["workload", "schema", "tree", "metadata", "processes"]

    static func scan(_ bytes: [UInt8], maxDepth: Int) -> DumpHeadScanner? {
        bytes.withUnsafeBufferPointer { buffer -> DumpHeadScanner? in
            var r = JSONByteReader(buffer, maxDepth: maxDepth, maxIntegerDigits: maxIntegerDigits)
            var head = DumpHeadScanner()
            var seen = JSONByteReader.Seen()
            guard r.skipSpace(), r.peek == UInt8(ascii: "{") else { return nil }
            let ok = r.object { r, k in
                guard let n = JSONByteReader.key(k, in: keys) else { return r.skipOther(k) }
                guard seen.first(n) else { return false }
                switch n {
                case 0: head.hasWorkload = true
                case 1:
                    guard r.skipSpace() else { return false }
                    if r.kind() == .string {
                        guard let s = r.string(), let s else { return false }
                        head.schema = s
                        return true
                    }
                case 2: head.hasTree = true
                case 3: head.hasMetadata = true
                case 4:
                    guard r.skipSpace() else { return false }
                    if r.kind() == .array { return r.processes(&head) }
                default: return false
                }
                return r.skipValue()
            }
            guard ok else { return nil }
            _ = r.skipSpace()
            guard r.at == buffer.count else { return nil }
            if r.sawNonASCII && String(validating: buffer, as: UTF8.self) == nil { return nil }
            return head
        }
    }
}

extension JSONByteReader {
    /// The `processes` array: notes whether its first object has a `generation_type` member.
    mutating func processes(_ head: inout DumpHeadScanner) -> Bool {
        var first = true
        return array { r in
            guard r.skipSpace() else { return false }
            guard first, r.kind() == .object else { return r.skipValue() }
            first = false
            return r.object { r, k in
                // A key with an escape could spell `generation_type`: only the tree can tell.
                guard k != nil else { return false }
                if JSONByteReader.key(k, in: ["generation_type"]) != nil { head.firstProcessHasGenerationType = true }
                return r.skipValue()
            }
        }
    }
}
