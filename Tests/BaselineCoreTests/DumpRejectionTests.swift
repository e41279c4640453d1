import BaselineCore
import Foundation
import Testing

/// Every rejection reason, each with the input that triggers it.
@Suite struct DumpRejectionTests {
    let small = DumpDecoder(limits: DumpLimits(maxPayloadBytes: 4096, maxDecompressedBytes: 8192, maxDepth: 4, maxNodes: 20,
                                               maxStringLength: 64, maxChildren: 5))

    func code(_ bytes: [UInt8], decoder: DumpDecoder = DumpDecoder(), contentType: String? = nil) -> String? {
        do {
            _ = try decoder.decode(bytes, contentType: contentType, receivedAt: 0)
            return nil
        } catch {
            #expect(!error.reason.isEmpty)
            return error.code
        }
    }

    func dump(_ processes: String, workload: String = #"{"image_name":"app"}"#) -> [UInt8] {
        Array(#"{"workload":\#(workload),"processes":\#(processes)}"#.utf8)
    }

    @Test func malformedPayloads() {
        #expect(code([]) == "empty_payload")
        #expect(code(Array(#"{"workload": {"image_name": "x"}, "processes": [ "#.utf8)) == "invalid_json")  // truncated
        #expect(code([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]) == "invalid_utf8")
        #expect(code(Array(#"{"hello": "world"}"#.utf8)) == "unknown_format")
        #expect(code(Array(#"{"schema":"baseline.activity-dump/v9","workload":{"image_name":"a"},"processes":[]}"#.utf8)) == "unsupported_schema")
        #expect(code(dump(#"[{"path": 42}]"#)) == "invalid_field")  // wrong type
        #expect(code([0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02]) == "invalid_gzip")
        #expect(code([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]) == "invalid_protobuf")  // length past the end
        #expect(code(Array("\u{0}\u{1}binary noise\u{7}".utf8)) != nil)
    }

    @Test func identity() {
        #expect(code(dump(#"[{"path":"/bin/a"}]"#, workload: #"{"container_id":"c1"}"#)) == "missing_workload")
        #expect(code(dump(#"[{"path":"/bin/a"}]"#, workload: #"{"service":"api"}"#)) == nil)  // service alone names the profile
        #expect(code(dump("[]")) == "empty_tree")
        #expect(code(dump(#"[{"path":"/usr/bin/containerd-shim"}]"#)) == "empty_tree")  // only the runtime
    }

    @Test func limits() {
        #expect(code(Array(repeating: UInt8(ascii: " "), count: 5000), decoder: small) == "payload_too_large")
        let bomb = gzip(Array(repeating: UInt8(ascii: " "), count: 100_000))
        #expect(bomb.count < 4096)
        #expect(code(bomb, decoder: small) == "payload_too_large")
        #expect(code(Array(String(repeating: "[", count: 100).utf8), decoder: small) == "too_deep")
        let deep = #"[{"path":"/a","children":[{"path":"/b","children":[{"path":"/c","children":[{"path":"/d","children":[{"path":"/e"}]}]}]}]}]"#
        #expect(code(dump(deep), decoder: small) == "too_deep")
        let wide = "[" + (0..<6).map { #"{"path":"/p\#($0)"}"# }.joined(separator: ",") + "]"
        #expect(code(dump(wide), decoder: small) == "too_many_children")
        let nodes = "[" + (0..<5).map { i in #"{"path":"/p\#(i)","files":[{"path":"/a"},{"path":"/b"},{"path":"/c"},{"path":"/d"}]}"# }
            .joined(separator: ",") + "]"
        #expect(code(dump(nodes), decoder: small) == "too_many_nodes")  // 5 × (1 + 4) = 25 > 20
        #expect(code(dump(#"[{"path":"/\#(String(repeating: "x", count: 100))"}]"#), decoder: small) == "string_too_long")
    }
}
