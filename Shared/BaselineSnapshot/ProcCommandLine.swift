/// `/proc/<pid>/cmdline`: the arguments, each ended by NUL. An argument may hold spaces and
/// newlines; only NUL separates. Trailing empty arguments are dropped: a process that rewrote its
/// title (nginx, postgres) pads the old argument area with NULs, which would otherwise read as
/// dozens of empty arguments (the price: a real trailing `''` argument is dropped too).
public struct ProcCommandLine: Hashable, Sendable {
    /// argv[0] as the process was started (or as it renamed itself).
    public var argv0: String?
    /// The arguments after argv[0] (the convention of agents' `args`).
    public var args: [String]
    /// Arguments cut to `maxArgumentBytes` (UTF-8 bytes, on a character boundary).
    public var truncatedArguments: Int

    public init(argv0: String?, args: [String], truncatedArguments: Int = 0) {
        self.argv0 = argv0
        self.args = args
        self.truncatedArguments = truncatedArguments
    }

    /// `bytes` may itself be a bounded prefix of the real command line; its last argument is then
    /// simply shorter. Each argument is cut to `maxArgumentBytes`, the dump's string limit.
    public init(_ bytes: [UInt8], maxArgumentBytes: Int = 4096) {
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
        while let last = parts.last, last.isEmpty { parts.removeLast() }
        var truncated = 0
        let strings = parts.map { part -> String in
            let (s, cut) = Self.bounded(part, maxBytes: maxArgumentBytes)
            if cut { truncated += 1 }
            return s
        }
        self.init(argv0: strings.first, args: Array(strings.dropFirst()), truncatedArguments: truncated)
    }

    /// Decodes (invalid UTF-8 replaced) and cuts to at most `maxBytes` UTF-8 bytes without
    /// splitting a character.
    static func bounded(_ bytes: ArraySlice<UInt8>, maxBytes: Int) -> (String, Bool) {
        let s = String(decoding: bytes, as: UTF8.self)
        guard s.utf8.count > maxBytes else { return (s, false) }
        var out = ""
        var used = 0
        for c in s {
            let n = c.utf8.count
            if used + n > maxBytes { break }
            out.append(c)
            used += n
        }
        return (out, true)
    }
}
