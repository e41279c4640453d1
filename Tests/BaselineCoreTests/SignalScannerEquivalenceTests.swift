@testable import BaselineCore
import Foundation
import Testing

/// The enricher's one-pass signal reader (`SignalScanner`) must decide what Foundation's tree
/// decides (`SecuritySignal.parse(_:scanning: false)`): the same fields, or the same rejection. A fast path
/// that read a different `evt.name`, path or tag than the general code, or let through a
/// `baseline` member the general code refuses, would let a sender steer the verdict.
@Suite struct SignalScannerEquivalenceTests {
    /// What a parser made of the bytes: the signal, or the rejection's code and reason.
    enum Outcome: Equatable {
        case signal(SecuritySignal)
        case rejected(String, String)
    }

    static func outcome(_ parse: ([UInt8]) throws(Rejection) -> SecuritySignal, _ bytes: [UInt8]) -> Outcome {
        do { return .signal(try parse(bytes)) } catch { return .rejected(error.code, error.reason) }
    }

    /// Both parsers on `bytes`; whether the fast path decided it (false: it gave up, as it should on odd input).
    @discardableResult
    static func expectSameDecision(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let general = outcome({ b throws(Rejection) in try SecuritySignal.parse(b, scanning: false) }, bytes)
        let viaParse = outcome(SecuritySignal.parse, bytes)
        #expect(viaParse == general, "\(String(decoding: bytes.prefix(400), as: UTF8.self).debugDescription)", sourceLocation: sourceLocation)
        // The pre-flight (depth) runs before both; past it the scanner alone must agree too.
        guard LenientJSON.preflight(bytes, maxDepth: SecuritySignal.maxNesting, maxArray: .max, maxValues: .max) == nil, !bytes.isEmpty,
              let fields = SignalScanner.scan(bytes) else { return false }
        let fast: Outcome
        do { fast = .signal(try fields.signal()) } catch { fast = .rejected(error.code, error.reason) }
        #expect(fast == general, "scanner: \(String(decoding: bytes.prefix(400), as: UTF8.self).debugDescription)",
                sourceLocation: sourceLocation)
        return true
    }

    @Test func mutatedSignalsAreDecidedAlike() throws {
        var rng = SeededRandom(seed: 0xFA57_5CA7)
        let seeds = try DecoderFuzzTests.signalSeeds()
        let inputs = seeds + (0..<20_000).map { _ in DecoderFuzzTests.mutate(seeds, &rng) }
            + DecoderFuzzTests.sweep(seeds, values: DecoderFuzzTests.values)
        var fast = 0
        for input in inputs where Self.expectSameDecision(input) { fast += 1 }
        print("signal scanner equivalence: \(inputs.count) inputs, \(fast) decided by the fast path")
        // Enough of them on the fast path for the comparison to mean something.
        #expect(fast > inputs.count / 10, "fast path decided \(fast) of \(inputs.count)")
    }

    @Test func generatedSignalsTakeTheFastPathAndAgree() {
        let signals = FleetGenerator.generate(.small).signals
        #expect(signals.count > 100)
        for s in signals {
            #expect(Self.expectSameDecision(s.bytes), "a generated signal left the fast path")
        }
    }

    /// Attack shapes: each is decided as the general parser decides; those marked give the fast
    /// path up, because only the general parser knows their meaning.
    @Test func attackShapesAreDecidedAlike() {
        let exec = #""evt":{"name":"exec"},"process":{"executable":{"path":"/bin/sh"}}"#
        let givesUp: [String] = [
            // The general parser keeps the last of two members: the scanner must not read the first.
            #"{"evt":{"name":"open"},"evt":{"name":"exec"}}"#,
            #"{\#(exec),"process":{"executable":{"path":"/usr/bin/nc"}}}"#,
            #"{\#(exec),"tags":["image_name:a"],"tags":["image_name:b"]}"#,
            #"{"evt":{"name":"exec","name":"dns"}}"#,
            // A `baseline` member in disguise.
            #"{\#(exec),"baselin\u0065":{"suppressed":true}}"#,
            #"{\#(exec),"b\u0061seline":null}"#,
            #"{"ev\u0074":{"name":"exec"}}"#,
            "{\(exec),\"\u{212A}ey\":1}",
            // Surrogates, control characters, invalid UTF-8, trailing commas, exponents, big numbers.
            #"{\#(exec),"x":"\ud800"}"#,
            #"{\#(exec),"x":"\ud83d\ude00"}"#,
            "{\(exec),\"x\":\"a\u{01}b\"}",
            #"{\#(exec),}"#,
            #"{\#(exec),"tags":["a",]}"#,
            #"{\#(exec),"x":1e400}"#,
            #"{\#(exec),"x":1e2}"#,
            #"{"evt":{"name":"exec"},"process":{"pid":123456789012345678901234567890}}"#,
            #"{"evt":{"name":"exec"},"process":{"pid":9223372036854775807}}"#,
            #"{"evt":{"name":"exec"},"process":{"pid":1.5}}"#,
            #"{"evt":{"name":"exec"},"process":{"pid":true}}"#,
            #"{"evt":{"name":"exec"},"process":{"args":["a",1]}}"#,
            #"{"evt":{"name":1}}"#,
            #"{\#(exec)} x"#,
            #"{\#(exec),"x":01}"#,
            #"[{\#(exec)}]"#,
            "\u{FEFF}{\(exec)}",
        ]
        for s in givesUp {
            #expect(!Self.expectSameDecision(Array(s.utf8)), "the fast path decided \(s.debugDescription)")
        }
        var invalidUTF8 = Array(#"{"evt":{"name":"exec"},"x":"ab"}"#.utf8)
        invalidUTF8.insert(0xFF, at: invalidUTF8.count - 3)
        #expect(!Self.expectSameDecision(invalidUTF8))
        var nulByte = Array(#"{"evt":{"name":"exec"},"process":{"executable":{"path":"/bin/sh"}}}"#.utf8)
        nulByte.insert(0, at: nulByte.count - 5)
        #expect(!Self.expectSameDecision(nulByte))
        let deep = "{\"evt\":{\"name\":\"exec\"},\"x\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}"
        Self.expectSameDecision(Array(deep.utf8))

        let decided: [(String, String?)] = [
            (#"{\#(exec),"baseline":{"suppressed":true,"in_profile":true}}"#, "reserved_member"),
            (#"{\#(exec),"baseline":null}"#, "reserved_member"),
            (#"{"baseline":1,\#(exec)}"#, "reserved_member"),
            (#"{"evt":{"name":"exec"},"process":{"executable":{"path":"/bin/\u0000sh"}}}"#, "invalid_string"),
            (#"{"evt":{"name":"exec"},"tags":["image_name:a\u0000"]}"#, "invalid_string"),
            (#"{"evt":{"name":""}}"#, "missing_event_type"),
            (#"{"evt":null}"#, "missing_event_type"),
            (#"{"process":{"executable":{"path":"/bin/sh"}}}"#, "missing_event_type"),
            // Values the general parser reads as absent or converts.
            (#"{"evt":{"name":"exec"},"process":{"executable":null,"pid":null,"args":null,"ancestors":null,"parent":{"file":{"path":"/p"}}}}"#, nil),
            (#"{"evt":{"name":"exec"},"process":{"pid":"42","ancestors":[1,null,{},{"file":{"path":"/f"}},{"executable":{"path":""},"file":{"path":"/g"}}]}}"#, nil),
            (#"{"evt":{"name":"bind"},"bind":{"addr":{"ip":"1.2.3.4","port":"99999999999","protocol":"udp"}},"process":{"truncated_ancestors":true}}"#, nil),
            (#"{"evt":{"name":"exec"},"date":"2026-11-30T07:00:00.5Z","container":{"id":"","created_at":-5},"process":{"container":{"id":"c1"}}}"#, nil),
            (#"{"id":"s\"1\\\/\b\f\n\r\t\u00e9\u20ac","evt":{"name":"open"},"file":{"path":"/caf\u00e9","flags":"4294967297"},"tags":[" image_name : x ","image_tag:"],"security_profile":{"tags":["image_tag:9"]}}"#, nil),
            ("{\"evt\":{\"name\":\"dns\"},\"dns\":{\"question\":{\"name\":\"caf\u{E9}.\u{1F600}\",\"type\":\"A\"}},\"x\":{\"\u{E9}\":[]}}", nil),
            (#"  {"evt" : {"name" : "exec"} , "unknown" : [ {"a":[true,false,null,-0,0.25]} ] }  "#, nil),
        ]
        for (s, code) in decided {
            let bytes = Array(s.utf8)
            #expect(Self.expectSameDecision(bytes), "the fast path gave up on \(s.debugDescription)")
            if case .rejected(let c, _) = Self.outcome(SecuritySignal.parse, bytes) {
                #expect(c == code, "\(s): \(c)")
            } else {
                #expect(code == nil, "\(s) was accepted")
            }
        }
    }
}
