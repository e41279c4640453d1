import Crypto

/// An anomaly's stable id, of bounded length. The natural id (`profile|tag|type:node|dump`) can
/// reach about 2 800 bytes with every part at its limit, past what a B-tree index entry holds
/// (about 2 700 bytes; `anomalies` indexes the id, also beside profile key and tag): PostgreSQL
/// would refuse the row and the merger would isolate the batch one message at a time. A natural id
/// over `maxNaturalBytes` keeps its first bytes (readable) and ends in the SHA-256 of the whole, so
/// it stays stable across replays and distinct for distinct anomalies. A shortened id is always
/// longer than `maxNaturalBytes`, so it can never equal an id kept as it is.
public enum AnomalyID {
    /// Natural ids up to this many UTF-8 bytes are kept as they are (every id stored before the
    /// bound existed that PostgreSQL could index with the profile key and tag beside it).
    public static let maxNaturalBytes = 1_024
    /// The readable start kept of a longer id.
    static let keptBytes = 1_000

    public static func make(profileKey: String, imageTag: String, node: ProfileNodeKey, dumpID: String) -> String {
        bounded("\(profileKey)|\(imageTag)|\(node)|\(dumpID)")
    }

    /// `natural` itself when short enough, else its start (cut on a character boundary) followed by
    /// `|sha256:` and the hash of all of it.
    public static func bounded(_ natural: String) -> String {
        let bytes = natural.utf8
        if bytes.count <= maxNaturalBytes { return natural }
        var end = bytes.index(bytes.startIndex, offsetBy: keptBytes)
        // Back to the start of a Unicode scalar (a continuation byte is 0b10xxxxxx).
        while end > bytes.startIndex, bytes[end] & 0xC0 == 0x80 { end = bytes.index(before: end) }
        let hash = SHA256.hash(data: Array(bytes)).map { b in
            let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
            return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
        }.joined()
        return String(decoding: bytes[..<end], as: UTF8.self) + "|sha256:" + hash
    }
}
