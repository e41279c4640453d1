/// A one-pass reader of JSON bytes for the fast paths (`SignalScanner`, `DumpHeadScanner`): it
/// checks the grammar as it goes and gives up (false or nil from every function) on anything
/// outside a plain subset that Foundation's `JSONSerialization` is known to accept the same way
/// (see `SignalScanner`); the caller then takes the general path.
struct JSONByteReader {
    let b: UnsafeBufferPointer<UInt8>
    var at = 0
    var depth = 0
    var sawNonASCII = false
    /// Deeper nesting gives up.
    let maxDepth: Int
    /// Integers with more digits give up (fractions: 18 digits in all).
    let maxIntegerDigits: Int

    init(_ b: UnsafeBufferPointer<UInt8>, maxDepth: Int, maxIntegerDigits: Int = 18) {
        self.b = b
        self.maxDepth = maxDepth
        self.maxIntegerDigits = maxIntegerDigits
    }

    var peek: UInt8? { at < b.count ? b[at] : nil }

    /// Skips JSON whitespace; false at the end of the input.
    mutating func skipSpace() -> Bool {
        while at < b.count {
            switch b[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return true
            }
        }
        return false
    }

    mutating func expect(_ c: UInt8) -> Bool {
        guard skipSpace(), b[at] == c else { return false }
        at += 1
        return true
    }

    // MARK: objects

    /// Reads an object's members, handing each key (its bytes, only for plain ASCII keys without
    /// escapes) to `member`, which reads the value. `member` gets nil for other keys and must skip.
    mutating func object(_ member: (inout JSONByteReader, UnsafeBufferPointer<UInt8>.SubSequence?) -> Bool) -> Bool {
        guard expect(UInt8(ascii: "{")) else { return false }
        depth += 1
        guard depth <= maxDepth else { return false }
        guard skipSpace() else { return false }
        if b[at] == UInt8(ascii: "}") {
            at += 1
            depth -= 1
            return true
        }
        while true {
            guard skipSpace(), b[at] == UInt8(ascii: "\"") else { return false }
            guard let key = keyBytes() else { return false }
            guard expect(UInt8(ascii: ":")), member(&self, key.plain ? key.bytes : nil) else { return false }
            guard skipSpace() else { return false }
            if b[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            guard b[at] == UInt8(ascii: "}") else { return false }
            at += 1
            depth -= 1
            return true
        }
    }

    /// A key's raw bytes (between the quotes); `plain` when ASCII without escapes.
    mutating func keyBytes() -> (bytes: UnsafeBufferPointer<UInt8>.SubSequence, plain: Bool)? {
        let start = at + 1
        guard let (end, plain) = skipString() else { return nil }
        return (b[start..<(end - 1)], plain)
    }

    /// Skips a string starting at its opening quote; the index after the closing quote, and
    /// whether it held only ASCII without escapes.
    mutating func skipString() -> (Int, Bool)? {
        at += 1
        var plain = true
        while at < b.count {
            let c = b[at]
            if c == UInt8(ascii: "\"") {
                at += 1
                return (at, plain)
            }
            if c < 0x20 { return nil }
            if c >= 0x80 {
                sawNonASCII = true
                plain = false
            } else if c == UInt8(ascii: "\\") {
                plain = false
                guard at + 1 < b.count else { return nil }
                switch b[at + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    at += 1
                case UInt8(ascii: "u"):
                    guard let u = hex4(at + 2), !(0xD800...0xDFFF).contains(u) else { return nil }
                    at += 5
                default: return nil
                }
            }
            at += 1
        }
        return nil
    }

    func hex4(_ from: Int) -> UInt32? {
        guard from + 4 <= b.count else { return nil }
        var v: UInt32 = 0
        for i in from..<(from + 4) {
            let c = b[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    // MARK: values

    enum Kind { case string, number, object, array, trueLiteral, falseLiteral, null, invalid }

    func kind() -> Kind {
        guard at < b.count else { return .invalid }
        switch b[at] {
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "t"): return .trueLiteral
        case UInt8(ascii: "f"): return .falseLiteral
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), 0x30...0x39: return .number
        default: return .invalid
        }
    }

    /// Skips any value, checking it as the general parser would accept it (or giving up).
    mutating func skipValue() -> Bool {
        guard skipSpace() else { return false }
        switch kind() {
        case .string: return skipString() != nil
        case .number: return number() != nil
        case .trueLiteral: return literal("true")
        case .falseLiteral: return literal("false")
        case .null: return literal("null")
        case .object: return object { r, _ in r.skipValue() }
        case .array: return array { r in r.skipValue() }
        case .invalid: return false
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard at + n <= b.count else { return false }
        let w = word.utf8Start
        for i in 0..<n where b[at + i] != w[i] { return false }
        at += n
        return true
    }

    mutating func array(_ element: (inout JSONByteReader) -> Bool) -> Bool {
        guard expect(UInt8(ascii: "[")) else { return false }
        depth += 1
        guard depth <= maxDepth, skipSpace() else { return false }
        if b[at] == UInt8(ascii: "]") {
            at += 1
            depth -= 1
            return true
        }
        while true {
            guard element(&self), skipSpace() else { return false }
            if b[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            guard b[at] == UInt8(ascii: "]") else { return false }
            at += 1
            depth -= 1
            return true
        }
    }

    /// A number in JSON's grammar without an exponent, with at most `maxIntegerDigits` digits (18
    /// with a fraction); its value when it is an integer that fits an Int64.
    enum Number { case integer(Int64), large, fraction }

    mutating func number() -> Number? {
        var i = at
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < b.count, (0x30...0x39).contains(b[i]) else { return nil }
        var magnitude: UInt64 = 0
        var overflow = false
        var digits = 0
        if b[i] == 0x30 {
            i += 1
            digits = 1
            if i < b.count, (0x30...0x39).contains(b[i]) { return nil }
        } else {
            while i < b.count, (0x30...0x39).contains(b[i]) {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(b[i] - 0x30))
                magnitude = a
                overflow = overflow || o1 || o2
                digits += 1
                if digits > maxIntegerDigits { return nil }
                i += 1
            }
        }
        var fraction = false
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, (0x30...0x39).contains(b[i]) {
                digits += 1
                i += 1
            }
            guard i > start, digits <= 18 else { return nil }
            fraction = true
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { return nil }
        at = i
        if fraction { return .fraction }
        if overflow { return .large }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? .integer(Int64(bitPattern: 0 &- magnitude)) : .large
        }
        return magnitude <= UInt64(Int64.max) ? .integer(Int64(magnitude)) : .large
    }

    // MARK: typed members (nil value: absent, as `null` reads)

    /// A string member: the outer optional nil gives up, the inner nil is `null`.
    mutating func string() -> String?? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .null: return literal("null") ? .some(nil) : nil
        case .string:
            let start = at + 1
            guard let (end, plain) = skipString() else { return nil }
            let raw = UnsafeBufferPointer(rebasing: b[start..<(end - 1)])
            if plain { return .some(String(decoding: raw, as: UTF8.self)) }
            return Self.unescaped(raw).map { .some($0) }
        default: return nil
        }
    }

    /// A string's content with its escapes resolved (already checked by `skipString`; no surrogates).
    static func unescaped(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            let e = raw[i + 1]
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v: UInt32 = 0
                for j in (i + 2)..<(i + 6) {
                    let h = raw[j]
                    v = v << 4 | UInt32(h <= 0x39 ? h - 0x30 : (h | 0x20) - 0x61 + 10)
                }
                guard let scalar = Unicode.Scalar(v) else { return nil }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                i += 6
                continue
            default: out.append(e)  // " \ /
            }
            i += 2
        }
        return String(validating: out, as: UTF8.self)
    }

    /// An integer member (`LenientJSON.int64`'s reading: a number, or a numeric string).
    mutating func int64() -> Int64?? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .null: return literal("null") ? .some(nil) : nil
        case .number:
            guard case .integer(let n)? = number() else { return nil }
            return .some(n)
        case .string:
            guard let s = string(), let s else { return nil }
            return .some(LenientJSON.int64(s))
        default: return nil
        }
    }

    /// `true`/`false` (`null` is false, as `LenientJSON.bool` reads it); nil gives up.
    mutating func bool() -> Bool? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .trueLiteral: return literal("true") ? true : nil
        case .falseLiteral, .null: return literal(kind() == .null ? "null" : "false") ? false : nil
        default: return nil
        }
    }

    /// An array of strings (`null`: empty).
    mutating func strings() -> [String]? {
        guard skipSpace() else { return nil }
        if kind() == .null { return literal("null") ? [] : nil }
        var out: [String] = []
        let ok = array { r in
            guard let s = r.string(), let s else { return false }
            out.append(s)
            return true
        }
        return ok ? out : nil
    }

    /// An object member read by `member`, or `null` (then `member` never runs; true: absent).
    /// Gives up on any other type.
    mutating func nested(_ member: (inout JSONByteReader, UnsafeBufferPointer<UInt8>.SubSequence?) -> Bool) -> Bool? {
        guard skipSpace() else { return nil }
        switch kind() {
        case .null: return literal("null") ? false : nil
        case .object: return object(member) ? true : nil
        default: return nil
        }
    }

    /// Tracks the members of one object already read, to give up on one given twice.
    struct Seen {
        var bits: UInt32 = 0
        mutating func first(_ n: Int) -> Bool {
            let bit: UInt32 = 1 << UInt32(n)
            if bits & bit != 0 { return false }
            bits |= bit
            return true
        }
    }

    static func key(_ k: UnsafeBufferPointer<UInt8>.SubSequence?, in names: [StaticString]) -> Int? {
        guard let k else { return nil }
        outer: for (n, name) in names.enumerated() where name.utf8CodeUnitCount == k.count {
            let p = name.utf8Start
            var j = 0
            for c in k {
                if c != p[j] { continue outer }
                j += 1
            }
            return n
        }
        return nil
    }

    /// A member not read: skipped, unless its key is not plain (nil `k`), which gives up.
    mutating func skipOther(_ k: UnsafeBufferPointer<UInt8>.SubSequence?) -> Bool {
        k != nil ? skipValue() : false
    }

    /// An object of which one member is read by `read` (`null`: absent); nil gives up.
    mutating func singleMember(_ name: StaticString, _ read: (inout JSONByteReader) -> Bool) -> Bool? {
        var seen = Seen()
        return nested { r, k in
            Self.key(k, in: [name]) != nil ? seen.first(0) && read(&r) : r.skipOther(k)
        }
    }
}
