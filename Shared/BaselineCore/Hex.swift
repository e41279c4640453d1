/// Bytes as lowercase hexadecimal, two digits each: what `String(format: "%02x")` per byte wrote,
/// without Foundation's formatter (two ids per enriched signal spent most of their time there).
enum Hex {
    static func lowercase<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        let d = digits.utf8Start
        for b in bytes {
            out.append(d[Int(b >> 4)])
            out.append(d[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
