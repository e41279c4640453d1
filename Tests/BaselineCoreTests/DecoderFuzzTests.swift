@testable import BaselineCore
import Foundation
import Testing

/// The short form of `scripts/fuzz` (docs/reliability.md), run with every `swift test`: a seeded,
/// reproducible mutation harness over the same seed inputs. Byte flips, interesting bytes, tokens
/// (extreme numbers, far dates, NUL escapes, brackets), truncations, insertions, deletions,
/// duplications and splices of two seeds, members' values swapped for edge values (the JSON stays
/// well-formed), trailing commas, and the same mutations under gzip. Every input must either decode or be rejected
/// with a `Rejection` of a documented code, never trap; what decodes must normalise, key, merge,
/// and (for signals) enrich into one JSON object.
@Suite struct DecoderFuzzTests {
    /// Randomly mutated inputs per decoder; the sweep of every member value adds a few thousand more.
    static let randomInputs = 4000

    static let dumpCodes: Set<String> = [
        "empty_payload", "payload_too_large", "invalid_gzip", "invalid_utf8", "invalid_json", "invalid_protobuf",
        "unknown_format", "unsupported_schema", "invalid_field", "missing_workload", "empty_tree", "too_deep",
        "too_many_nodes", "too_many_children", "string_too_long", "invalid_string",
    ]
    static let signalCodes: Set<String> = [
        "empty_payload", "too_deep", "invalid_json", "invalid_signal", "missing_event_type", "invalid_string",
    ]

    /// Tokens spliced into inputs: what decoders give meaning to, and values at the edge of their types.
    static let tokens: [String] = [
        #""9999-12-31T23:59:59Z""#, #""1012-11-29T07:11:40.123456789Z""#, #""2262-04-11T23:47:16.854775808Z""#,
        "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e308", "-1e308", "4294967296", "-1",
        #""\u0000""#, #"\u0000"#, #"\ud800"#, "null", "true", "[]", "{}", "[[[[[[[[", "]]]]", "{\"", "\"", "\\",
        #""children":["#, #""processes":[{"path":"/a"}]"#, #""image_name:x""#, #""is_exec_child":true"#,
        #""created_at":"#, #""date":"#, #""start":"#, #""ancestors":[{}]"#, "/proc/1/", "busybox", "\u{1F600}", ",", ",}",
    ]

    /// JSON values put in place of a member's value: the shape stays valid, the value goes to the edge.
    static let values: [String] = [
        #""9999-12-31T23:59:59Z""#, #""1012-11-29T07:11:40.123456789Z""#, #""2262-04-11T23:47:16.854775808Z""#,
        #""2026-02-30T25:61:61Z""#, "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e308",
        "-1e308", "4294967296", "-1", "0", "1.5", #""-1""#, #""18446744073709551615""#, #""a\u0000b""#, #""\ud800""#,
        "null", "true", "false", "[]", "{}", #"[null,1,"x",{}]"#, #""""#, #""/proc/1/task/2/x""#, #""busybox""#,
    ]

    /// The edge values the sweep puts in every member (a subset of `values`, to keep it quick).
    static let sweepValues: [String] = [
        #""9999-12-31T23:59:59Z""#, #""1012-11-29T07:11:40.123456789Z""#, #""2025-11-29T07:11:40.1234569999999999999999999999999999999Z""#,
        "18446744073709551616", "-1", "1e308", #""a\u0000b""#, "null", "[]", #""""#,
    ]

    static let interestingBytes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x30, 0x39, 0x2D]

    static func seeds(_ paths: [String]) throws -> [[UInt8]] { try paths.map { try fixture($0) } }

    static func dumpSeeds() throws -> [[UInt8]] {
        try seeds(["examples/dumps/nginx-1.json", "examples/dumps/nginx-9.json", "examples/dumps/redis-1.json",
                   "examples/dumps/datadog-secdump.json", "examples/dumps/garbage.bin",
                   "schemas/activity-dump.v1.example.json", "Fuzz/seeds/dump/datadog-rfc3339.json",
                   "Fuzz/seeds/dump/baseline-full.json"])
            + [try schemaFixture("secdump-published-schema.pb"), protobufSecDump()]
    }

    static func signalSeeds() throws -> [[UInt8]] {
        try seeds(["examples/signals/nginx-exec.json", "examples/signals/nginx-nc.json", "examples/signals/unknown-dns.json",
                   "examples/signals/broken.json", "Fuzz/seeds/signal/signal-full.json", "Fuzz/seeds/signal/signal-open-dns.json"])
    }

    /// One mutated input from the seeds: one mutation mostly (so enough inputs stay well-formed
    /// enough to reach the converters), up to four in a third of the inputs.
    static func mutate(_ seeds: [[UInt8]], _ rng: inout SeededRandom) -> [UInt8] {
        var b = rng.pick(seeds)
        for _ in 0..<(rng.below(3) == 0 ? 1 + rng.below(4) : 1) {
            let at = b.isEmpty ? 0 : rng.below(b.count + 1)
            switch rng.below(10) {
            case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(1) << UInt8(rng.below(8))  // bit flip
            case 1 where !b.isEmpty: b[min(at, b.count - 1)] = rng.pick(interestingBytes)
            case 2: b = Array(b.prefix(at))  // truncation
            case 3: b.insert(contentsOf: Array(rng.pick(tokens).utf8), at: at)
            case 4: b.insert(contentsOf: (0..<(1 + rng.below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 5:  // delete a range
                let end = min(b.count, at + 1 + rng.below(64))
                if at < end { b.removeSubrange(at..<end) }
            case 6:  // duplicate a range (deeper nesting, repeated fields)
                let end = min(b.count, at + 1 + rng.below(256))
                if at < end { b.insert(contentsOf: b[at..<end], at: at) }
            case 7:  // splice: this one's head, another seed's tail
                let other = rng.pick(seeds)
                b = Array(b.prefix(at)) + Array(other.suffix(other.isEmpty ? 0 : rng.below(other.count + 1)))
            case 8:  // replace a member's value (`"key": value`) with an edge value
                let spans = valueSpans(b)
                if !spans.isEmpty { b.replaceSubrange(rng.pick(spans), with: Array(rng.pick(values).utf8)) }
            default:  // replace a number with an extreme one
                if let i = b.indices.dropFirst(at).first(where: { (0x30...0x39).contains(b[$0]) }) {
                    var j = i
                    while j < b.count && (0x30...0x39).contains(b[j]) { j += 1 }
                    b.replaceSubrange(i..<j, with: Array(rng.pick(["99999999999999999999", "1e400", "-0", "4294967295", "0"]).utf8))
                }
            }
        }
        return b
    }

    /// Where the scalar values of an object's members (strings, numbers, literals) lie, for JSON
    /// bytes: brackets and colons inside strings are skipped, nested objects and arrays are entered.
    static func valueSpans(_ b: [UInt8]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var i = 0
        var inString = false
        while i < b.count {
            let c = b[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: ":") {
                var start = i + 1
                while start < b.count && [0x20, 0x0A, 0x0D, 0x09].contains(b[start]) { start += 1 }
                guard start < b.count, b[start] != UInt8(ascii: "{"), b[start] != UInt8(ascii: "[") else { i += 1; continue }
                var end = start
                if b[end] == UInt8(ascii: "\"") {
                    end += 1
                    while end < b.count && b[end] != UInt8(ascii: "\"") { end += b[end] == UInt8(ascii: "\\") ? 2 : 1 }
                    end = min(end + 1, b.count)
                } else {
                    while end < b.count && ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A].contains(b[end]) { end += 1 }
                }
                spans.append(start..<end)
                i = end
                continue
            }
            i += 1
        }
        return spans
    }

    /// Where `}` and `]` close an object or array (outside strings).
    static func closers(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var inString = false
        var i = 0
        while i < b.count {
            if inString {
                if b[i] == UInt8(ascii: "\\") { i += 1 } else if b[i] == UInt8(ascii: "\"") { inString = false }
            } else if b[i] == UInt8(ascii: "\"") {
                inString = true
            } else if b[i] == UInt8(ascii: "}") || b[i] == UInt8(ascii: "]") {
                out.append(i)
            }
            i += 1
        }
        return out
    }

    /// The systematic part: every member value of every JSON seed replaced by each edge value in
    /// turn (a far date in `metadata.end` is one member among a hundred, which random mutation
    /// seldom hits), and a trailing comma before every closing bracket (Foundation's parser
    /// accepts `{"a":1,}`).
    static func sweep(_ seeds: [[UInt8]], values: [String]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for seed in seeds where seed.first == UInt8(ascii: "{") {
            for span in valueSpans(seed) {
                for v in values {
                    var b = seed
                    b.replaceSubrange(span, with: Array(v.utf8))
                    out.append(b)
                }
            }
            for i in closers(seed) {
                var b = seed
                b.insert(UInt8(ascii: ","), at: i)
                out.append(b)
            }
        }
        return out
    }

    static func summary(_ codes: [String: Int]) -> String {
        codes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    @Test func mutatedDumpsDecodeOrAreRejected() throws {
        var rng = SeededRandom(seed: 0xF022_D0D0)
        let seeds = try Self.dumpSeeds()
        var inputs: [(bytes: [UInt8], contentType: String?)] = (0..<Self.randomInputs).map { i in
            let b = Self.mutate(seeds, &rng)
            // Every eighth behind gzip; some claim a content type the bytes may not have.
            return (i % 8 == 0 ? gzip(b) : b, [nil, nil, nil, "application/json", "application/x-protobuf"][i % 5])
        }
        inputs += Self.sweep(seeds, values: Self.sweepValues).map { ($0, nil) }
        let decoder = DumpDecoder()
        var accepted = 0
        var codes: [String: Int] = [:]
        for (input, contentType) in inputs {
            do {
                let r = try decoder.decode(input, contentType: contentType, receivedAt: 1_780_000_000_000_000_000)
                accepted += 1
                #expect(!r.dump.processes.isEmpty)
                #expect(!ProfileNodeKey.nodes(of: r.dump).isEmpty)
                _ = DumpDecoder.contentID(of: r.dump)
                var state = VersionState(version: ProfileVersion(profileKey: r.dump.workload.profileKey, imageTag: r.dump.workload.imageTag))
                _ = ProfileMerge.apply(r, to: &state, config: ModelConfiguration())
            } catch {
                codes[error.code, default: 0] += 1
                #expect(Self.dumpCodes.contains(error.code), "undocumented rejection code \(error.code): \(error.reason)")
                #expect(!error.reason.isEmpty)
                // What the format step alone accepts (over a limit, or no process) must normalise and key
                // too: its depth is bounded by the nesting checks.
                if let (_, raw) = try? decoder.decodeRaw(input, contentType: contentType) {
                    _ = ProfileNodeKey.nodes(of: DumpNormalizer().normalize(raw))
                }
            }
        }
        print("decoder fuzz (short form): \(inputs.count) dumps, \(accepted) accepted, rejected: \(Self.summary(codes))")
        // A harness whose mutations never decode (or never fail) would test nothing.
        #expect(inputs.count >= 6000 && accepted > inputs.count / 10, "accepted \(accepted), rejected \(codes)")
        #expect(codes.count >= 8, "rejections \(codes)")
    }

    @Test func mutatedSignalsParseOrAreRejected() throws {
        var rng = SeededRandom(seed: 0x5161_0A15)
        let seeds = try Self.signalSeeds()
        let inputs = (0..<Self.randomInputs).map { _ in Self.mutate(seeds, &rng) } + Self.sweep(seeds, values: Self.sweepValues)
        var accepted = 0
        var codes: [String: Int] = [:]
        for input in inputs {
            do {
                let signal = try SecuritySignal.parse(input)
                accepted += 1
                if let activity = SignalActivity(signal: signal) {
                    _ = activity.key(differentiateArgs: false)
                    _ = activity.key(differentiateArgs: true)
                }
                let result = Enrichment.enrich(signal, workload: signal.workload, matcher: nil, suppressions: SuppressionIndex(),
                                               config: EnrichmentConfiguration())
                // The enriched signal is the original plus a `baseline` member, still one JSON object.
                let out = try SecuritySignal.appendingBaseline(result.context, to: input)
                let object = try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
                #expect(object?["baseline"] != nil)
            } catch let error as Rejection {
                codes[error.code, default: 0] += 1
                #expect(Self.signalCodes.contains(error.code), "undocumented rejection code \(error.code): \(error.reason)")
                #expect(!error.reason.isEmpty)
            }
        }
        print("decoder fuzz (short form): \(inputs.count) signals, \(accepted) accepted, rejected: \(Self.summary(codes))")
        #expect(inputs.count >= 4000 && accepted > inputs.count / 10, "accepted \(accepted), rejected \(codes)")
        #expect(codes.count >= 4, "rejections \(codes)")
    }
}
