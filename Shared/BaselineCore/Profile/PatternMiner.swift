/// Sibling pattern mining: ephemeral file names (`sess-8f3a`, `2024-01-03.log`, `12345`) collapse
/// into one pattern node (`sess-*`, `2024-01-*.log`… here `*-*-*.log`, `*`) once enough siblings of
/// the same shape were seen. Only tokens containing a digit are generalised, so plain alphabetic
/// names (`nginx.conf`, `passwd`) never turn into a bare `*`.
public struct PatternMiner: Sendable, Hashable, Codable {
    /// Distinct sibling names of one shape needed before they collapse.
    public var threshold: Int

    public init(threshold: Int = 5) {
        self.threshold = threshold
    }

    /// The shape of a name: runs of letters/digits that contain a digit become `*`.
    public static func shape(of name: String) -> String {
        var out = ""
        var token = ""
        func flush() {
            if token.contains(where: \.isNumber) { out += "*" } else { out += token }
            token = ""
        }
        for ch in name {
            if ch.isLetter || ch.isNumber { token.append(ch) } else { flush(); out.append(ch) }
        }
        flush()
        return out
    }

    /// Whether `shape` may be used as a pattern (it generalised something).
    public static func isPattern(_ shape: String) -> Bool { shape.contains("*") }

    /// Splits a file path into its directory and last component.
    public static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }
}
