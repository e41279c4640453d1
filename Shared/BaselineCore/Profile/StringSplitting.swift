/// Substring search on UTF-8 bytes. Node keys are split on every match, and Foundation's
/// `range(of:)` costs microseconds per call; this costs nanoseconds.
extension StringProtocol {
    /// The first occurrence of an ASCII `separator`, as a range of string indices.
    func firstRange(ofASCII separator: String) -> Range<Index>? {
        let needle = Array(separator.utf8)
        guard let first = needle.first else { return nil }
        let bytes = utf8
        var i = bytes.startIndex
        while let start = bytes[i...].firstIndex(of: first) {
            var j = start
            var k = 0
            while k < needle.count, j < bytes.endIndex, bytes[j] == needle[k] {
                j = bytes.index(after: j)
                k += 1
            }
            if k == needle.count { return start..<j }
            i = bytes.index(after: start)
        }
        return nil
    }

    /// Splits on every occurrence of an ASCII separator.
    func split(onASCII separator: String) -> [String] {
        var parts: [String] = []
        var rest = self[...]
        while let r = rest.firstRange(ofASCII: separator) {
            parts.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
