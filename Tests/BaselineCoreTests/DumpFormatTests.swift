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

/// The binary protobuf equivalent of a small SecDump (field numbers from agent-payload, `SecDumpField`).
func protobufSecDump(name: String? = "pb-dump-1", imageTag: String = "2.0") -> [UInt8] {
    typealias F = SecDumpField
    var w = ProtobufWriter()
    w.string(F.SecDump.host, "node-1")
    w.message(F.SecDump.metadata) { m in
        if let name { m.string(F.Metadata.name, name) }
        m.bool(F.Metadata.differentiateArgs, false)
        m.string(F.Metadata.containerID, "c0ffee")
        m.int(F.Metadata.start, 1_764_400_000_000_000_000)
    }
    w.string(F.SecDump.tags, "image_name:redis")
    w.string(F.SecDump.tags, "image_tag:\(imageTag)")
    w.message(F.SecDump.tree) { node in
        node.message(F.ProcessActivityNode.process) { p in
            p.int(F.ProcessInfo.pid, 7)
            p.message(F.ProcessInfo.file) { f in f.string(F.FileInfo.path, "/usr/local/bin/redis-server") }
            p.string(F.ProcessInfo.args, "--port")
            p.string(F.ProcessInfo.args, "6379")
        }
        node.int(F.ProcessActivityNode.generationType, 3)  // generation type 3: a number the enum does not name
        node.message(F.ProcessActivityNode.files) { f in
            f.string(F.FileActivityNode.name, "data")
            f.message(F.FileActivityNode.children) { c in
                c.string(F.FileActivityNode.name, "dump.rdb")
                c.message(F.FileActivityNode.file) { fi in fi.string(F.FileInfo.path, "/data/dump.rdb") }
                c.message(F.FileActivityNode.open) { o in o.int(F.OpenNode.flags, 0o101); o.int(F.OpenNode.mode, 0o644) }
            }
        }
        node.message(F.ProcessActivityNode.dnsNames) { d in
            d.message(F.DNSNode.requests) { r in r.string(F.DNSInfo.name, "cache.internal"); r.int(F.DNSInfo.type, 28) }
        }
        node.message(F.ProcessActivityNode.sockets) { s in
            s.string(F.SocketNode.family, "AF_INET")
            s.message(F.SocketNode.bind) { b in
                b.int(F.BindNode.port, 6379)
                b.string(F.BindNode.ip, "0.0.0.0")
                b.string(F.BindNode.imageTags, imageTag)
                b.int(F.BindNode.protocol, 6)
                b.nodeBase(F.BindNode.nodeBase, tag: imageTag)
            }
        }
        node.packed(F.ProcessActivityNode.syscalls, [0, 1, 321])
        node.message(F.ProcessActivityNode.syscallNodes) { s in
            s.string(F.SyscallNode.imageTags, imageTag)
            s.int32(F.SyscallNode.syscall, 232)
            s.nodeBase(F.SyscallNode.nodeBase, tag: imageTag)
        }
        node.message(F.ProcessActivityNode.capabilityNodes) { c in
            c.nodeBase(F.CapabilityNode.nodeBase, tag: imageTag)
            c.int(F.CapabilityNode.capability, 10)
            c.bool(F.CapabilityNode.isCapable, true)
        }
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
        #expect(p.syscalls == ["syscall_0", "syscall_1", "syscall_321", "syscall_232"])
        #expect(p.capabilities == ["CAP_NET_BIND_SERVICE"])
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
