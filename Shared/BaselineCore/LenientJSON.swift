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

    /// Rejects JSON nested deeper than `limit` before parsing it (a cheap scan that keeps a
    /// hostile payload from exhausting the parser's stack).
    static func nestingDepth(_ bytes: [UInt8], exceeds limit: Int) -> Bool {
        var depth = 0
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
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return false
    }
}
