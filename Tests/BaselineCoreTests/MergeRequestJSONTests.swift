@testable import BaselineCore
import Foundation
import Testing

/// The merge request's hand-written writer and one-pass reader (`MergeRequestWriter`,
/// `ActivityDumpReader`) must be `JSONEncoder` and `JSONDecoder` on the wire: the same JSON out
/// (members and values; the encoder's member order is a hash order that changes from process to
/// process), the same request (or an error, which dead-letters the record) in. A reader that took a
/// different path, instance or flag from a record than the decoder would merge what was never
/// observed.
@Suite struct MergeRequestJSONTests {
    static func encoded(_ r: MergeRequest) throws -> [UInt8] { Array(try JSONEncoder().encode(r)) }

    static func decoded(_ b: [UInt8]) -> MergeRequest? { try? JSONDecoder().decode(MergeRequest.self, from: Data(b)) }

    /// The writer's JSON is the encoder's: the same tree, read back by the decoder as the same request.
    static func expectTheEncodersJSON(_ r: MergeRequest, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let written = r.json(), encoded = try encoded(r)
        let a = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: Data(encoded)) as? NSDictionary
        #expect(a != nil && a == b, "\(String(decoding: written, as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(decoded(written) != nil && decoded(written) == decoded(encoded), sourceLocation: sourceLocation)
    }

    /// Requests from the fleet generator's dumps, the examples and fuzzed dumps that decode.
    static func requests() throws -> [MergeRequest] {
        let decoder = DumpDecoder()
        var rng = SeededRandom(seed: 0x3E26_E00D)
        let seeds = try DecoderFuzzTests.dumpSeeds()
        let inputs = FleetGenerator.generate(.small).dumps.prefix(100).map(FleetGeneratorTests.encode) + seeds
            + (0..<3000).map { _ in DecoderFuzzTests.mutate(seeds, &rng) }
        return inputs.compactMap { try? decoder.decode($0, receivedAt: 1_780_000_000_123_456_789) }
    }

    static let hostile = ["/usr/bin/a b", "q\"uote", "back\\slash", "ctl\u{1}\u{1F}\t\n\r\u{8}\u{C}", "\u{7F}", "caf\u{E9}/\u{1F600}",
                          "\u{2028}", "</x>", "", "//", "\\/"]

    @Test func theWriterWritesTheEncodersJSON() throws {
        let requests = try Self.requests()
        #expect(requests.count > 300)
        for r in requests { try Self.expectTheEncodersJSON(r) }
        var rng = SeededRandom(seed: 0x5EED)
        for _ in 0..<500 {
            var w = Workload(imageName: rng.pick(Self.hostile), imageTag: rng.pick(Self.hostile), service: rng.pick([nil] + Self.hostile),
                             containerID: rng.pick([nil] + Self.hostile), host: rng.pick([nil] + Self.hostile))
            w.containerCreatedAt = rng.pick([nil, Int64.min, Int64.max, 0, -1])
            let file = FileAccess(path: rng.pick(Self.hostile), flags: rng.pick([0, 1, UInt32.max]), mode: rng.pick([0, 0o644, UInt32.max]))
            let child = ProcessNode(path: rng.pick(Self.hostile), pid: rng.pick([nil, Int64.min, 7]))
            let p = ProcessNode(path: rng.pick(Self.hostile), argv0: rng.pick([nil] + Self.hostile), args: [rng.pick(Self.hostile)],
                                comm: rng.pick([nil] + Self.hostile), pid: rng.pick([nil, Int64.max]), isExecChild: rng.below(2) == 0,
                                files: [file], dns: [DNSRequest(name: rng.pick(Self.hostile), type: rng.pick(Self.hostile))],
                                binds: [SocketBind(family: rng.pick(Self.hostile), ip: rng.pick(Self.hostile), port: rng.pick([Int.min, 0, 80]),
                                                   protocol: rng.pick(Self.hostile))],
                                syscalls: [rng.pick(Self.hostile)], capabilities: [rng.pick(Self.hostile)], children: [child])
            let dump = ActivityDump(schema: rng.pick(Self.hostile), id: rng.pick([nil] + Self.hostile), workload: w,
                                    start: rng.pick([nil, 1, Int64.max]), end: rng.pick([nil, Int64.min]), differentiateArgs: rng.below(2) == 0,
                                    processes: [p], isSnapshot: rng.below(2) == 0)
            let r = MergeRequest(dumpID: rng.pick(Self.hostile), sourceFormat: rng.pick(Self.hostile), receivedAt: rng.pick([0, Int64.min, Int64.max]),
                                 dump: dump)
            try Self.expectTheEncodersJSON(r)
            // And the reader takes what the writer wrote, without the decoder.
            #expect(ActivityDumpReader.mergeRequest(r.json()) == Self.decoded(r.json()))
        }
    }

    @Test func theReaderReadsWhatTheDecoderReads() throws {
        let seeds = try Self.requests().prefix(40).map { try Self.encoded($0) }
        var rng = SeededRandom(seed: 0x12EAD)
        let inputs = seeds + (0..<6000).map { _ in DecoderFuzzTests.mutate(seeds, &rng) }
            + DecoderFuzzTests.sweep(Array(seeds.prefix(3)), values: DecoderFuzzTests.values)
        var read = 0
        for input in inputs {
            let decoder = Self.decoded(input)
            if let fast = ActivityDumpReader.mergeRequest(input) {
                read += 1
                #expect(fast == decoder, "\(String(decoding: input.prefix(300), as: UTF8.self))")
            }
            #expect((try? MergeRequest.fromJSON(input)) == decoder)
        }
        print("merge request reader: \(inputs.count) inputs, \(read) read without the decoder")
        #expect(read > inputs.count / 10)
    }

    /// Attack shapes: each is read as the decoder reads it (or left to it), never differently.
    @Test func attackShapesAreReadAsTheDecoderReadsThem() throws {
        let w = #""workload":{"image_name":"app","image_tag":"1"}"#
        func request(_ dump: String) -> String {
            #"{"schema":"baseline.merge-request/v1","dump_id":"d","source_format":"baseline-json","received_at":1780000000000000000,"dump":\#(dump)}"#
        }
        let shapes: [(String, Bool)] = [
            // (input, whether the reader reads it itself)
            (request(#"{\#(w),"processes":[{"path":"/a"}]}"#), true),
            (request(#"{"workload":{"image_name":"app","image_tag":""},"processes":[{"path":"/a","files":[{"path":"/f"}],"dns":[{"name":"x"}],"binds":[{"port":80}]}]}"#), true),
            (request(#"{\#(w),"processes":null,"id":null,"start":null,"differentiate_args":null}"#), true),
            (request(#"{\#(w),"processes":[{"path":"/a"}],"generation_type":"SNAPSHOT"}"#), true),
            (request(#"{\#(w),"processes":[{"path":"/a","path":"/b"}]}"#), false),
            (request(#"{\#(w),"processes":[{"p\u0061th":"/a"}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","files":[{"path":"/f","flags":-1}]}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","files":[{"path":"/f","flags":4294967296}]}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","files":[{"path":"/f","flags":-0}]}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","pid":"12"}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","pid":1.5}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","pid":-9223372036854775808}]}"#), true),
            (request(#"{\#(w),"processes":[{"path":"/a","pid":9223372036854775808}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":null}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","binds":[{"port":null}]}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a","is_exec_child":1}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a\ud800"}]}"#), false),
            (request(#"{\#(w),"processes":[{"path":"/a"}],}"#), false),
            (request(#"{"processes":[{"path":"/a"}]}"#), false),
            (#"{"dump_id":"d","dump_id":"e","schema":"s","source_format":"f","received_at":1,"dump":{\#(w)}}"#, false),
            (#"{"schema":"s","source_format":"f","received_at":1,"dump":{\#(w)}}"#, false),
            ("", false), ("[]", false), ("{", false),
        ]
        for (s, reads) in shapes {
            let bytes = Array(s.utf8)
            let fast = ActivityDumpReader.mergeRequest(bytes)
            #expect((fast != nil) == reads, "\(s)")
            if let fast { #expect(fast == Self.decoded(bytes), "\(s)") }
            #expect((try? MergeRequest.fromJSON(bytes)) == Self.decoded(bytes), "\(s)")
        }
        // What neither reads still fails (the merger dead-letters it), and never traps.
        #expect(throws: (any Error).self) { try MergeRequest.fromJSON(Array(#"{"dump":"#.utf8)) }
    }
}
