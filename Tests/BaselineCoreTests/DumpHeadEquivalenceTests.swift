@testable import BaselineCore
import Foundation
import Testing

/// The dump decoder's scan of the top-level members (`DumpHeadScanner`) must decide what
/// Foundation's tree decided: the same format, schema check and snapshot flag, or the same
/// rejection. A scan that took a Datadog dump, a dump of another schema, or a snapshot in
/// disguise for a plain Baseline dump would merge what the general code refuses or keeps apart.
@Suite struct DumpHeadEquivalenceTests {
    enum Outcome: Equatable {
        case decoded(String, ActivityDump)
        case rejected(String, String)
    }

    static func outcome(_ bytes: [UInt8], scanning: Bool) -> Outcome {
        do {
            let (format, dump) = try DumpDecoder().decodeRaw(bytes, contentType: nil, scanning: scanning)
            return .decoded(format.rawValue, dump)
        } catch {
            return .rejected(error.code, error.reason)
        }
    }

    /// Both paths on `bytes`; whether the scan decided (took the Baseline path itself).
    @discardableResult
    static func expectSameDecision(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let general = outcome(bytes, scanning: false)
        #expect(outcome(bytes, scanning: true) == general, "\(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription)",
                sourceLocation: sourceLocation)
        guard let head = DumpHeadScanner.scan(bytes, maxDepth: DumpHeadScanner.maxDepth) else { return false }
        return head.isBaseline && !head.firstProcessHasGenerationType
    }

    @Test func mutatedDumpsAreDecidedAlike() throws {
        var rng = SeededRandom(seed: 0xD0_4EAD)
        let seeds = try DecoderFuzzTests.dumpSeeds()
        let inputs = seeds + (0..<6000).map { _ in DecoderFuzzTests.mutate(seeds, &rng) }
            + DecoderFuzzTests.sweep(seeds, values: DecoderFuzzTests.sweepValues)
        var scanned = 0
        for input in inputs where Self.expectSameDecision(input) { scanned += 1 }
        print("dump head equivalence: \(inputs.count) inputs, \(scanned) decided by the scan")
        #expect(scanned > inputs.count / 10, "the scan decided \(scanned) of \(inputs.count)")
    }

    @Test func generatedDumpsTakeTheScan() {
        let fleet = FleetGenerator.generate(.small)
        for dump in fleet.dumps.prefix(200) {
            let bytes = FleetGeneratorTests.encode(dump)
            #expect(Self.expectSameDecision(bytes), "a generated dump left the scan")
        }
    }

    /// Attack shapes around what the scan reads: each is decided as the tree decides it.
    @Test func attackShapesAreDecidedAlike() {
        let w = #""workload":{"image_name":"app","image_tag":"1","container_id":"c"}"#
        let p = #""processes":[{"path":"/bin/app"}]"#
        let decided: [(String, Bool)] = [
            // (input, whether the scan decides it)
            (#"{"schema":"baseline.activity-dump/v1",\#(w),\#(p)}"#, true),
            (#"{"schema":"baseline.other/v9",\#(w),\#(p)}"#, true),
            (#"{"schema":7,\#(w),\#(p)}"#, true),
            (#"{"schema":null,\#(w),\#(p)}"#, true),
            (#"{\#(w),"processes":[]}"#, true),
            (#"{"workload":null,\#(p)}"#, true),
            (#"{\#(w),"processes":[1,"x",{"path":"/a","generation_type":"snapshot"}]}"#, false),
            (#"{\#(w),"processes":[{"path":"/a","generation_type":"snapshot","files":[{"path":"/f"}]}]}"#, false),
            (#"{\#(w),"processes":[{"path":"/a","generation_typ\u0065":"snapshot"}]}"#, false),
            (#"{\#(w),"processes":[{"path":"/a"},{"path":"/b","generation_type":"snapshot"}]}"#, true),
            (#"{\#(w),"generation_type":"snapshot",\#(p)}"#, true),
            // Members given twice: the tree keeps the last.
            (#"{"schema":"baseline.activity-dump/v1","schema":"baseline.other/v2",\#(w),\#(p)}"#, false),
            (#"{\#(w),"processes":[{"path":"/a"}],"processes":[{"path":"/a","generation_type":"snapshot"}]}"#, false),
            (#"{\#(w),"tree":[],\#(p)}"#, true),
            // Datadog shapes and disguised keys take the tree.
            (#"{"tree":[],"metadata":{}}"#, false),
            (#"{"work\u006coad":{"image_name":"app"},\#(p)}"#, false),
            (#"{"sch\u0065ma":"baseline.activity-dump/v1","metadata":{},"tree":[]}"#, false),
            (#"{"schema":"baseline.activity-dump/v1","metadata":{},"tree":[]}"#, true),
            // Grammar the tree refuses (or the scan does not know).
            (#"{\#(w),\#(p),}"#, false),
            (#"{\#(w),\#(p),"x":"\ud800"}"#, false),
            (#"{\#(w),\#(p),"x":1e400}"#, false),
            (#"{\#(w),\#(p)} x"#, false),
            (#"{\#(w),\#(p),"start":1780000000000000000,"end":17800000000000000000}"#, true),
        ]
        for (s, scans) in decided {
            #expect(Self.expectSameDecision(Array(s.utf8)) == scans, "\(s)")
        }
    }
}
