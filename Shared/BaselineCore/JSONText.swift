/// JSON text as `JSONEncoder` writes it.
enum JSONText {
    /// A string literal: `"` and `\` escaped, `/` too with `escapingSlashes` (the encoder's
    /// default), the control characters with a short escape where JSON has one (\b \t \n \f \r),
    /// else `\u00xx`; everything else as is.
    static func appendString(_ s: String, to out: inout [UInt8], escapingSlashes: Bool = false) {
        out.append(UInt8(ascii: "\""))
        let plain = s.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && !(escapingSlashes && $0 == UInt8(ascii: "/")) }
        if plain {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "/") where escapingSlashes: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
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

    static func appendArray<T>(_ items: [T], to out: inout [UInt8], _ element: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            element(item, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A finite double: Swift's shortest round-trip text without a trailing `.0`.
    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        var text = d.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
    }
}

/// One object's members written in the order given (the caller gives them in the encoder's order).
struct JSONMembers {
    let escapingSlashes: Bool
    var first = true

    init(escapingSlashes: Bool) { self.escapingSlashes = escapingSlashes }

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
        JSONText.appendString(v, to: &out, escapingSlashes: escapingSlashes)
    }

    mutating func strings(_ k: StaticString, _ v: [String], _ out: inout [UInt8]) {
        key(k, &out)
        let slashes = escapingSlashes
        JSONText.appendArray(v, to: &out) { s, out in JSONText.appendString(s, to: &out, escapingSlashes: slashes) }
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

    mutating func int(_ k: StaticString, _ v: Int64?, _ out: inout [UInt8]) {
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
