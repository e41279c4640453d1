/// Byte-exact comparison of strings. Swift's `String ==` and hashing follow Unicode canonical
/// equivalence: "\u{212A}" (KELVIN SIGN) equals "K", "e\u{301}" equals "é". The kernel, file
/// systems and the SIEMs that read signals compare bytes: `/srv/\u{212A}iosk/run` is another file
/// than `/srv/Kiosk/run`. A profile, a pattern or a suppression that matched by equivalence would
/// let an attacker's look-alike path pass for learned behaviour.
extension StringProtocol {
    /// Equal UTF-8 bytes.
    @inlinable
    public func bytesEqual<Other: StringProtocol>(_ other: Other) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}

extension String {
    /// Feeds the UTF-8 bytes (and their count, so concatenations stay apart) into `hasher`.
    @inlinable
    public func hashBytes(into hasher: inout Hasher) {
        hasher.combine(utf8.count)
        if utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in utf8 { hasher.combine(byte) }
        }
    }
}

extension String {
    /// At most `maxBytes` UTF-8 bytes of this string, cut at a scalar boundary. `prefix(n)` counts
    /// Characters, and one Character may hold megabytes of combining marks.
    public func prefix(bytes maxBytes: Int) -> String {
        let bytes = utf8
        guard bytes.count > maxBytes else { return self }
        var end = bytes.index(bytes.startIndex, offsetBy: max(0, maxBytes))
        while end > bytes.startIndex, bytes[end] & 0xC0 == 0x80 { end = bytes.index(before: end) }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// A dictionary key compared by bytes (see `String.bytesEqual`).
public struct ExactString: Hashable, Sendable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public static func == (a: ExactString, b: ExactString) -> Bool { a.value.bytesEqual(b.value) }
    public func hash(into hasher: inout Hasher) { value.hashBytes(into: &hasher) }
}
