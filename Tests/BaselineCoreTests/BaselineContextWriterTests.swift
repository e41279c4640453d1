@testable import BaselineCore
import Foundation
import Testing

/// The enricher writes the `baseline` object by hand (`BaselineContextWriter`); it must be the
/// bytes `JSONEncoder` wrote before, so readers see the same object, and its strings (paths,
/// explanations naming the sender's paths) must never break out of their quotes.
@Suite struct BaselineContextWriterTests {
    static func encoded(_ c: BaselineContext) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(c))
    }

    static func written(_ c: BaselineContext) -> [UInt8]? {
        var out: [UInt8] = []
        return BaselineContextWriter.write(c, into: &out) ? out : nil
    }

    static let hostileStrings = [
        "", "/usr/bin/nc", "a\"b", "a\\b", "\\\"}, \"suppressed\": true, \"x\": \"", "\u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1F}",
        "\u{7F}", "\u{2028}\u{2029}", "caf\u{E9} \u{1F600}", "e\u{301}", "</script>", "\u{FEFF}", "\u{FFFF}", "//",
    ]
    static let doubles: [Double] = [0, 1, 0.5, 0.3333, 0.1 + 0.2, 1e-5, 0.0001, 2.5e-7, 123_456_789, 1e16, 1e17, 1e21, 1e22,
                                    12_345_678_901_234_567_890, -0.0, -1.5, .leastNonzeroMagnitude, .greatestFiniteMagnitude]

    @Test func hostileContextsAreWrittenAsTheEncoderWritesThem() throws {
        var rng = SeededRandom(seed: 0xC0DE_C7E1)
        func s() -> String? { rng.below(4) == 0 ? nil : rng.pick(Self.hostileStrings) }
        for _ in 0..<3000 {
            let node: BaselineContext.MatchedNode? = rng.below(3) == 0 ? nil : .init(
                id: rng.pick(Self.hostileStrings), kind: rng.pick(Self.hostileStrings), path: rng.pick(Self.hostileStrings),
                lineage: (0..<rng.below(4)).map { _ in rng.pick(Self.hostileStrings) }, commonality: rng.pick(Self.doubles),
                instances: Int(truncatingIfNeeded: rng.next()), dumps: rng.below(1000),
                firstSeen: rng.below(2) == 0 ? nil : Int64(bitPattern: rng.next()), lastSeen: rng.below(2) == 0 ? nil : Int64.min)
            var c = BaselineContext(status: rng.pick([BaselineContext.Status.profiled, .noProfile, .unknownWorkload]), profileKey: s(), imageTag: s(),
                                    eventType: s(), eventTypeState: s(), profileState: s(), inProfile: rng.below(2) == 0, node: node,
                                    profileCommonality: rng.below(2) == 0 ? nil : rng.pick(Self.doubles),
                                    instances: rng.below(2) == 0 ? nil : Int.max, dumpsMerged: rng.below(2) == 0 ? nil : Int.min,
                                    anomaly: rng.below(2) == 0, suppressed: rng.below(2) == 0, suppressionID: s(), suggestionID: s(),
                                    explanation: rng.pick(Self.hostileStrings))
            c.match = s()
            c.lineageBoundary = s()
            c.warmingUp = rng.below(3) == 0 ? nil : rng.below(2) == 0
            #expect(Self.written(c) == (try Self.encoded(c)), "\(c)")
        }
    }

    @Test func generatedFleetContextsAreWrittenAsTheEncoderWritesThem() throws {
        let matchers = FleetGeneratorTests.merged.states.mapValues { ProfileMatcher(state: $0) }
        var nodes = 0
        for s in FleetGeneratorTests.fleet.signals {
            let parsed = try SecuritySignal.parse(s.bytes)
            let r = Enrichment.enrich(parsed, workload: parsed.workload, matcher: matchers["\(s.imageName):\(s.imageTag)"],
                                      suppressions: SuppressionIndex(), config: EnrichmentConfiguration())
            if r.context.node != nil { nodes += 1 }
            #expect(Self.written(r.context) == (try Self.encoded(r.context)))
            // Whole enriched signals stay one JSON object holding the original's members and ours.
            let enriched = try SecuritySignal.appendingBaseline(r.context, to: s.bytes)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(enriched)) as? [String: Any])
            #expect(object["baseline"] != nil && object["evt"] != nil)
        }
        #expect(nodes > 0, "no signal matched a node: the node object was not compared")
    }

    /// Not-a-number has no JSON text: the writer leaves it to the encoder, which throws, as before.
    @Test func nonFiniteDoublesStillThrow() {
        for bad in [Double.nan, .infinity, -.infinity] {
            let c = BaselineContext(status: .profiled, profileCommonality: bad, explanation: "x")
            #expect(Self.written(c) == nil)
            #expect(throws: (any Error).self) { try SecuritySignal.appendingBaseline(c, to: Array("{}".utf8)) }
            let n = BaselineContext(status: .profiled, node: .init(id: "i", kind: "exec", path: "/p", lineage: [], commonality: bad,
                                                                  instances: 1, dumps: 1, firstSeen: nil, lastSeen: nil),
                                    explanation: "x")
            #expect(Self.written(n) == nil)
        }
    }
}
