@testable import BaselineCore
import CZlib
import Foundation
import Testing

func fixture(_ path: String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent(path)))
}

func gzip(_ input: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                  Int32(MemoryLayout<z_stream>.size))
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
    var input = input
    let produced = input.withUnsafeMutableBufferPointer { inBuf in
        out.withUnsafeMutableBufferPointer { outBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            stream.next_out = outBuf.baseAddress
            stream.avail_out = uInt(outBuf.count)
            deflate(&stream, Z_FINISH)
            return outBuf.count - Int(stream.avail_out)
        }
    }
    deflateEnd(&stream)
    return Array(out[0..<produced])
}

/// The binary protobuf equivalent of a small SecDump (field numbers from agent-payload).
func protobufSecDump(name: String? = "pb-dump-1", imageTag: String = "2.0") -> [UInt8] {
    var w = ProtobufWriter()
    w.string(1, "node-1")
    w.message(4) { m in
        if let name { m.string(5, name) }
        m.bool(7, false)
        m.string(9, "c0ffee")
        m.int(10, 1_764_400_000_000_000_000)
    }
    w.string(5, "image_name:redis")
    w.string(5, "image_tag:\(imageTag)")
    w.message(6) { node in
        node.message(1) { p in
            p.int(1, 7)
            p.message(6) { f in f.string(11, "/usr/local/bin/redis-server") }
            p.string(16, "--port")
            p.string(16, "6379")
        }
        node.int(8, 3)  // generation type 3 (profile drift): unnamed enum value
        node.message(4) { f in
            f.string(1, "data")
            f.message(6) { c in
                c.string(1, "dump.rdb")
                c.message(2) { fi in fi.string(11, "/data/dump.rdb") }
                c.message(5) { o in o.int(2, 0o101); o.int(3, 0o644) }
            }
        }
        node.message(5) { d in d.message(1) { r in r.string(1, "cache.internal"); r.int(2, 28) } }
        node.message(6) { s in s.string(1, "AF_INET"); s.message(2) { b in b.int(1, 6379); b.string(2, "0.0.0.0") } }
        node.bytesField(7, [0, 1, 0xC1, 0x02])  // packed syscalls 0, 1, 321
        node.int(99, 5)  // unknown field: ignored
    }
    return w.bytes
}

@Suite struct DumpFormatTests {
    let decoder = DumpDecoder()

    @Test func datadogJSONFixture() throws {
        let r = try decoder.decode(try fixture("examples/dumps/datadog-secdump.json"), receivedAt: 1)
        #expect(r.sourceFormat == "datadog-json")
        #expect(r.dumpID == "activity-dump-5f1e2a")
        let w = r.dump.workload
        #expect(w.imageName == "nginx" && w.imageTag == "1.25" && w.service == "web")
        #expect(w.namespace == "prod" && w.cluster == "eu-1" && w.host == "node-7")
        #expect(w.containerID?.count == 64)
        #expect(r.dump.start == 1_764_400_000_000_000_000)
        // The containerd-shim root is dropped; nginx is the root; the worker (same binary) is collapsed
        // into it; curl (exec child of sh) is re-based next to sh.
        #expect(r.dump.processes.map(\.path) == ["/usr/sbin/nginx"])
        let nginx = r.dump.processes[0]
        #expect(Set(nginx.children.map(\.path)) == ["/bin/sh", "/usr/bin/curl"])
        #expect(Set(nginx.files.map(\.path)) == ["/etc/nginx/nginx.conf", "/proc/self/status", "/var/log/nginx/access.log"])
        #expect(nginx.files.first { $0.path == "/etc/nginx/nginx.conf" }?.flags == 32768)
        #expect(Set(nginx.dns) == [DNSRequest(name: "api.example.com", type: "A"), DNSRequest(name: "api.example.com", type: "AAAA")])
        #expect(nginx.binds == [SocketBind(family: "AF_INET", ip: "0.0.0.0", port: 80, protocol: "tcp")])
        #expect(nginx.syscalls == ["syscall_0", "syscall_1", "syscall_257"])
        #expect(nginx.children.first { $0.path == "/usr/bin/curl" }?.dns.map(\.name) == ["localhost"])
    }

    @Test func datadogBinaryProtobuf() throws {
        let r = try decoder.decode(protobufSecDump(), receivedAt: 1)
        #expect(r.sourceFormat == "datadog-protobuf")
        #expect(r.dumpID == "pb-dump-1")
        #expect(r.profileKey == "redis" && r.dump.workload.imageTag == "2.0")
        #expect(r.dump.workload.containerID == "c0ffee" && r.dump.workload.host == "node-1")
        let p = try #require(r.dump.processes.first)
        #expect(p.path == "/usr/local/bin/redis-server" && p.args == ["--port", "6379"] && p.pid == 7)
        #expect(p.files == [FileAccess(path: "/data/dump.rdb", flags: 0o101, mode: 0o644)])
        #expect(p.dns == [DNSRequest(name: "cache.internal", type: "AAAA")])
        #expect(p.binds == [SocketBind(port: 6379)])
        #expect(p.syscalls == ["syscall_0", "syscall_1", "syscall_321"])
    }

    @Test func gzipOfEveryFormat() throws {
        let pb = try decoder.decode(gzip(protobufSecDump()), receivedAt: 1)
        #expect(pb.sourceFormat == "datadog-protobuf" && pb.dumpID == "pb-dump-1")
        let json = try decoder.decode(gzip(try fixture("examples/dumps/datadog-secdump.json")), receivedAt: 1)
        #expect(json.sourceFormat == "datadog-json")
        let baseline = try decoder.decode(gzip(try fixture("examples/dumps/nginx-1.json")), receivedAt: 1)
        #expect(baseline.sourceFormat == "baseline-json")
    }

    @Test func sameDumpInTwoEncodingsGetsTheSameContentID() throws {
        let pb = try decoder.decode(protobufSecDump(name: nil), receivedAt: 1)
        // Re-encode the decoded dump as Baseline JSON without an id: the content id must not depend on the format.
        var dump = pb.dump
        dump.id = nil
        let json = try JSONEncoder().encode(dump)
        let again = try decoder.decode(Array(json), receivedAt: 2)
        #expect(pb.dumpID.hasPrefix("sha256:"))
        #expect(again.dumpID == pb.dumpID)
    }

    @Test func contentTypeHeaderSelectsTheDecoder() throws {
        #expect(throws: Rejection.self) {
            try decoder.decode(try fixture("examples/dumps/nginx-1.json"), contentType: "application/x-protobuf", receivedAt: 1)
        }
        let r = try decoder.decode(protobufSecDump(), contentType: "application/vnd.datadog.secdump+protobuf", receivedAt: 1)
        #expect(r.sourceFormat == "datadog-protobuf")
    }

    @Test func baselineSchemaExampleIsAccepted() throws {
        let r = try decoder.decode(try fixture("schemas/activity-dump.v1.example.json"), receivedAt: 1)
        #expect(r.sourceFormat == "baseline-json")
        #expect(r.dump.processes.count == 1)
    }
}
