import Foundation

/// Readers for the protobuf JSON mapping: 64-bit integers may arrive as strings, enums as names
/// or numbers, absent messages as `null`, unknown fields are ignored.
enum LenientJSON {
    static func object(_ v: Any?) -> [String: Any]? { v as? [String: Any] }

    /// A scalar field's value, nil when absent or `null` (which the JSON mapping reads as the default).
    static func scalar(_ v: Any?) -> Any? { v is NSNull ? nil : v }

    static func array(_ v: Any?) -> [Any] { v as? [Any] ?? [] }

    static func objects(_ v: Any?) -> [[String: Any]] { array(v).compactMap { $0 as? [String: Any] } }

    static func string(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    static func strings(_ v: Any?) -> [String] { array(v).compactMap { string($0) } }

    static func int64(_ v: Any?) -> Int64? {
        switch v {
        case let s as String: return Int64(s) ?? UInt64(s).map { Int64(bitPattern: $0) }
        case let n as Int64: return n
        case let n as Int: return Int64(n)
        case let n as NSNumber: return n.int64Value
        default: return nil
        }
    }

    static func bool(_ v: Any?) -> Bool {
        switch v {
        case let b as Bool: return b
        case let s as String: return s == "true"
        case let n as NSNumber: return n.boolValue
        default: return false
        }
    }

    /// One pass over JSON bytes before they are parsed, so that a hostile payload can neither drive
    /// the parser's recursion nor make it build an object graph far larger than any dump the
    /// limits accept (Foundation spends about 80 bytes per value: 64 MiB of `1,1,1,…` once took
    /// 2.8 GB and 12 s to reject). Rejects nesting deeper than `maxDepth` (`too_deep`), an array
    /// of more than `maxArray` elements (`too_many_children`) and more than `maxValues` values
    /// (`too_many_nodes`); nil when none applies. Linear time, no allocation but the bracket stack.
    static func preflight(_ bytes: [UInt8], maxDepth: Int, maxArray: Int, maxValues: Int) -> Rejection? {
        var open: [(isArray: Bool, commas: Int)] = []
        var values = 0
        var inString = false
        var escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                values += 1
                open.append((b == UInt8(ascii: "["), 0))
                if open.count > maxDepth { return Rejection("too_deep", "the JSON is nested deeper than \(maxDepth) levels") }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !open.isEmpty { open.removeLast() }
            case UInt8(ascii: ","):
                values += 1
                if let top = open.last {
                    open[open.count - 1].commas = top.commas + 1
                    if top.isArray && top.commas + 1 >= maxArray {
                        return Rejection("too_many_children", "a JSON array has more than \(maxArray) elements")
                    }
                }
            default: continue
            }
            if values > maxValues { return Rejection("too_many_nodes", "the JSON has more than \(maxValues) values") }
        }
        return nil
    }
}
