@testable import BaselineCore
import Foundation
import Testing

/// The merge's and the enricher's fast paths (ASCII tokenising, native tag trimming) must decide
/// exactly what the general code decides: a pattern that a fast path let cover one more name would
/// be a match too wide.
@Suite struct FastPathEquivalenceTests {
    static let names = [
        "", "a", "1", "*", "sess-1234", "sess-abcd", "evil.sh", "x1", "payload2", "cache_0001.tmp", "a1b2-c3.d4",
        "lib.so.1.2.3", "--", "..", "a\r\nb", "a\r\n1", "\r\n", "tab\there9", "UPPER42lower", "mixed*star7", "**",
        "name with spaces 12", "trailing-", "-leading9", "~!@#$%^&()_+={}[]|\\:;\"'<>,?/`", "\u{7F}del1",
    ]

    @Test func asciiTokensAreTheUnicodeTokens() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ab9Z0-_.*/ \t\r\n~")
        let random = (0..<2000).map { _ in String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
        for name in Self.names + random {
            #expect(PatternMiner.asciiTokens(name) == PatternMiner.unicodeTokens(name), "tokens of \(name.debugDescription)")
        }
    }

    @Test func nonASCIINamesKeepTheUnicodeRules() {
        // Arabic-Indic three is a number and é a letter for Character; the byte path never sees them.
        for name in ["sess-٣٣", "café-12", "日本語1", "e\u{301}9", "x\u{00A0}1"] {
            #expect(PatternMiner.tokens(name) == PatternMiner.unicodeTokens(name))
        }
        #expect(PatternMiner.skeleton(of: "sess-٣٣") == "sess-*")
    }

    /// The attack shape: names outside a mined pattern stay outside it on the fast path.
    @Test func fastPathKeepsNamesOutsideAPattern() {
        let pattern = "sess-*"
        #expect(PatternMiner.matches("sess-42", pattern: pattern))
        for name in ["evil.sh", "sess-abcd", "sess-42.sh", "sess-42/../x", "sess-*", "sess-\r\n42", "xsess-42", "sess-4 2"] {
            #expect(!PatternMiner.matches(name, pattern: pattern), "\(name.debugDescription) must not match \(pattern)")
        }
    }

    @Test func tagTrimmingIsFoundationsWhitespaceTrimming() {
        let ascii = (0..<128).map { String(UnicodeScalar(UInt8($0))) }.flatMap { c in [c, " \(c) ", "\t\(c)x\(c)", "x\(c)"] }
        let values = ascii + ["", " ", "\t", "a", " a ", "\ta\t", " \u{00A0}a b\u{2003} ", "\u{3000}x", "a\n", "\n a", "é ", " 日本 ", "\u{200B}a"]
        for v in values {
            #expect(WorkloadTags.trimmingSpaces(Substring(v)) == v.trimmingCharacters(in: .whitespaces), "\(v.debugDescription)")
        }
        #expect(WorkloadTags.values([" Image_Name : nginx ", "image_tag:\t1.25\u{00A0}"]) == ["image_name": "nginx", "image_tag": "1.25"])
    }

    @Test func filePartsByBytesAreFilePartsByCharacters() {
        let values = ["/a > /b | /tmp/x1", "/a | x", "/a | /x", "/a | /", "/a | ", "/a |  /b/c d/e", "/a | /d/e | /f/g", "/a/b | c/d/e.txt",
                      "/a | /tmp/\r\n/x", "/a | /tmp/e\u{301}/x", "/a | /tmp/x/\u{301}y", "/usr/bin/tini > /w | /srv/app/lib/part_1.so", "no bar"]
        for v in values {
            let key = ProfileNodeKey(type: .file, value: v)
            let fast = ProfileVersion.fileParts(key), slow = ProfileVersion.filePartsByCharacters(key)
            #expect(fast?.dir == slow?.dir && fast?.name == slow?.name, "\(v.debugDescription)")
        }
        #expect(ProfileVersion.fileParts(ProfileNodeKey(type: .exec, value: "/a | /b")) == nil)
    }

    /// Ids (suggestions, nodes, dump content) keep their text: the hex writer is the formatter's.
    @Test func hexDigitsAreTheFormattersDigits() {
        var rng = SystemRandomNumberGenerator()
        let samples = [Array(0...255)] + (0..<200).map { _ in (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        for bytes in samples {
            #expect(Hex.lowercase(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        }
        let key = ProfileNodeKey(type: .exec, lineage: ["/bin/sh"], activity: nil)
        #expect(Enrichment.nodeID(key) == SuppressionSuggestion.id(ruleID: "", profileKey: "", node: key).replacingOccurrences(of: "sug-", with: "node-"))
    }

    /// Multi-call binaries (whose argv0 becomes part of the identity) are recognised by the last
    /// path component as `split` finds it, ASCII or not.
    @Test func multiCallBinariesAreFoundAsBySplitting() {
        func general(_ p: String) -> Bool { MultiCallBinaries.names.contains(p.split(separator: "/").last.map(String.init) ?? p) }
        var rng = SystemRandomNumberGenerator()
        let parts = ["/", "/", "busybox", "toybox", "coreutils", "bin", "", "busybox.", "xbusybox", " ", "."]
        let random = (0..<3000).map { _ in (0..<Int.random(in: 0...5, using: &rng)).map { _ in parts.randomElement(using: &rng)! }.joined() }
        for p in random + ["", "/", "//", "busybox", "/bin/busybox", "/bin/busybox/", "/bin/busybox//", "busybox/", "/usr/bin/nc"] {
            #expect(MultiCallBinaries.isMultiCall(p) == general(p), "\(p.debugDescription)")
            #expect(MultiCallBinaries.asciiLastComponent(p) == (p.split(separator: "/").last.map(String.init) ?? p), "\(p.debugDescription)")
        }
        // The attack shape: a prepended mark joins the slash into one Character, which `split`
        // does not cut; the byte path must not cut it either (it leaves non-ASCII to `split`).
        for p in ["/usr/bin\u{600}/busybox", "/x/\u{301}busybox", "/bin/busybo\u{301}x", "/bin/b\u{FF55}sybox"] {
            #expect(MultiCallBinaries.asciiLastComponent(p) == nil)
            #expect(MultiCallBinaries.isMultiCall(p) == general(p), "\(p.debugDescription)")
        }
        #expect(!MultiCallBinaries.isMultiCall("/usr/bin\u{600}/busybox") && MultiCallBinaries.isMultiCall("/bin/busybox"))
    }

    /// File paths normalise the same through the byte split as through the Character split,
    /// including the shapes each rule rewrites and near misses of them.
    @Test func asciiPathsNormaliseAsByCharacters() {
        let hex64 = String(repeating: "0123456789abcdef", count: 4)
        let parts = ["proc", "task", "dev", "123", "5", "4294967296", "-1", "+5", "99999999999999999999", "self", "loop12", "loop",
                     "dm-3", "dm-x", "..2024_01_03_12_34_56.1", "..a", "..", "kubepods-burstable-pod1234.slice", "cri-containerd-\(hex64).scope",
                     "docker-\(hex64).scope", hex64, String(hex64.dropLast()), "pod" + String(repeating: "a-", count: 18), "pod", "", "", "a",
                     "\r\n", "lib.so.6", "x.scope", "-pod.slice", "ABCDEF" + String(hex64.dropFirst(6))]
        var rng = SeededRandom(seed: 0x9A7)
        let normalizer = PathNormalizer()
        for _ in 0..<20_000 {
            let path = (rng.below(2) == 0 ? "/" : "") + (0..<(1 + rng.below(6))).map { _ in rng.pick(parts) }.joined(separator: "/")
            let pid: Int64? = rng.pick([nil, 123, 5, -1])
            #expect(normalizer.normalize(path, pid: pid) == normalizer.normalizeByCharacters(path, pid: pid), "\(path.debugDescription)")
        }
        #expect(normalizer.normalize("/proc/123/task/77/status", pid: 123) == "/proc/self/task/*/status")
        #expect(normalizer.normalize("/usr/lib/libc.so.6") == "/usr/lib/libc.so.6")
    }
}
