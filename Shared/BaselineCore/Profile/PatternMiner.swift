/// Sibling pattern mining: ephemeral file names collapse into one pattern node once enough
/// distinct siblings of one shape were seen, and the pattern keeps what they have in common:
/// `sess-8f3a`, `sess-91c2`… → `sess-*`; `2024-01-03.log`, `2024-01-04.log`… → `2024-01-*.log`.
///
/// A name's *skeleton* replaces each token (run of letters/digits) that contains a digit by `*`.
/// Names cluster by skeleton; the pattern restores every token all members share, so only the
/// varying digit-bearing tokens become `*`. A pattern must keep at least one constant token: names
/// that are nothing but one digit-bearing token (`x1`, `payload2`, `evil9`: skeleton `*`) never
/// collapse. A name matches a pattern only when it has the pattern's skeleton and every constant
/// token: `/tmp/evil.sh` never matches `/tmp/sess-*`, and neither does `sess-abcd` (no digit).
public struct PatternMiner: Sendable, Hashable, Codable {
    /// Distinct sibling names of one skeleton needed before they collapse.
    public var threshold: Int

    public init(threshold: Int = 5) {
        self.threshold = threshold
    }

    /// A token of a file name: a run of letters, digits and `*`, or a run of anything else.
    struct Token: Hashable {
        var text: Substring
        var isWord: Bool
        /// Words holding a digit (or a pattern's `*`) may vary between siblings.
        var varies: Bool
    }

    static func tokens(_ name: String) -> [Token] {
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return asciiTokens(name) }
        return unicodeTokens(name)
    }

    /// `unicodeTokens` for ASCII names, byte by byte (the merge and the matcher tokenise every file
    /// name; grapheme breaking and Unicode property look-ups dominated their cost). In ASCII a
    /// letter is A–Z or a–z and a number is 0–9, exactly what `Character.isLetter`/`isNumber` say;
    /// "\r\n", one Character, is two non-word bytes here: the same non-word run.
    static func asciiTokens(_ name: String) -> [Token] {
        var out: [Token] = []
        let utf8 = name.utf8
        var start = utf8.startIndex
        var inWord: Bool?
        var hasDigit = false
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let b = utf8[i]
            let digit = b >= 0x30 && b <= 0x39
            let letter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            let star = b == 0x2A
            let word = letter || digit || star
            if word != inWord {
                if let w = inWord, start < i { out.append(Token(text: name[start..<i], isWord: w, varies: w && hasDigit)) }
                start = i
                inWord = word
                hasDigit = false
            }
            if digit || star { hasDigit = true }
            i = utf8.index(after: i)
        }
        if let w = inWord, start < utf8.endIndex { out.append(Token(text: name[start..<utf8.endIndex], isWord: w, varies: w && hasDigit)) }
        return out
    }

    /// Tokens by Unicode character properties (any name).
    static func unicodeTokens(_ name: String) -> [Token] {
        var out: [Token] = []
        var start = name.startIndex
        var i = name.startIndex
        var inWord: Bool?
        var hasDigit = false
        func flush(_ end: String.Index) {
            guard let w = inWord, start < end else { return }
            out.append(Token(text: name[start..<end], isWord: w, varies: w && hasDigit))
        }
        while i < name.endIndex {
            let ch = name[i]
            let word = ch.isLetter || ch.isNumber || ch == "*"
            if word != inWord {
                flush(i)
                start = i
                inWord = word
                hasDigit = false
            }
            if ch.isNumber || ch == "*" { hasDigit = true }
            i = name.index(after: i)
        }
        flush(name.endIndex)
        return out
    }

    /// The name with every digit-bearing token replaced by `*`.
    public static func skeleton(of name: String) -> String {
        tokens(name).map { $0.varies ? "*" : String($0.text) }.joined()
    }

    /// Whether the name has a digit-bearing token, so it could ever join a cluster.
    public static func isCandidate(_ name: String) -> Bool { tokens(name).contains(where: \.varies) }

    /// Whether `name` is covered by `pattern` (a pattern this miner produced).
    public static func matches(_ name: String, pattern: String) -> Bool {
        let n = tokens(name), p = tokens(pattern)
        guard n.count == p.count else { return false }
        for (a, b) in zip(n, p) {
            if b.text == "*" {
                guard a.varies, !a.text.contains("*") else { return false }
            } else if !a.text.bytesEqual(b.text) {
                return false  // by bytes: a look-alike constant part is not the pattern's
            }
        }
        return true
    }

    /// Whether `path` is a pattern this miner could have produced: wildcards only in the last
    /// component, each a whole token, and at least one constant word token beside them. An
    /// imported profile must not bring a pattern wider than mining ever makes (`/tmp/*`, `/*/x`).
    public static func isWellFormedPattern(_ path: String) -> Bool {
        let (dir, name) = split(path)
        guard !dir.contains("*") else { return false }
        let t = tokens(name)
        guard t.contains(where: { $0.text == "*" }), t.allSatisfy({ !$0.text.contains("*") || $0.text == "*" }) else { return false }
        return t.contains { $0.isWord && $0.text != "*" }
    }

    /// Splits a file path into its directory and last component.
    public static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }
}

/// Distinct file names of one directory and skeleton not covered by a pattern yet, with the tokens
/// they all share kept up to date on each insert (so the pattern is known without a rescan).
public struct PatternCluster: Sendable, Hashable {
    public private(set) var names: Set<String> = []
    /// Token texts of the members, `*` where they differ.
    private var common: [String] = []
    private var isWord: [Bool] = []

    public init() {}

    public var count: Int { names.count }

    public mutating func insert(_ name: String) {
        guard names.insert(name).inserted else { return }
        let t = PatternMiner.tokens(name)
        if names.count == 1 {
            common = t.map { String($0.text) }
            isWord = t.map(\.isWord)
            return
        }
        // Same skeleton, so the same number of tokens; varying words that differ become `*`.
        for i in common.indices where i < t.count && common[i] != "*" && t[i].varies && common[i] != t[i].text { common[i] = "*" }
    }

    /// The pattern covering every member; nil when it would keep no constant word.
    public var pattern: String? {
        guard names.count > 1, common.contains("*"),
              common.indices.contains(where: { isWord[$0] && common[$0] != "*" }) else { return nil }
        return common.joined()
    }
}
