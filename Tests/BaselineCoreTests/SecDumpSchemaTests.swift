@testable import BaselineCore
import Foundation
import Testing

/// The two fixtures in `Fixtures/` are one SecDump serialised by the protobuf runtime from
/// DataDog/agent-payload's `activity_dump.proto` (see Fixtures/README.md): binary, and protobuf JSON
/// with proto field names and zero values printed.
func schemaFixture(_ name: String) throws -> [UInt8] {
    let dir = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures")
    return Array(try Data(contentsOf: dir.appendingPathComponent(name)))
}

private typealias F = SecDumpField

/// A binary SecDump with workload tags and one process whose node `build` fills.
private func binaryDump(_ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
    var w = ProtobufWriter()
    w.string(F.SecDump.tags, "image_name:app")
    w.message(F.SecDump.tree) { node in
        node.message(F.ProcessActivityNode.process) { p in
            p.int(F.ProcessInfo.pid, 10)
            p.message(F.ProcessInfo.file) { f in f.string(F.FileInfo.path, "/app") }
        }
        build(&node)
    }
    return w.bytes
}

/// The JSON twin of `binaryDump`: `node` is the JSON text of the process node's other fields.
private func jsonDump(_ node: String, process: String = #""pid": 10, "file": {"path": "/app"}"#) -> [UInt8] {
    Array(#"{"tags": ["image_name:app"], "metadata": {}, "tree": [{"process": {\#(process)}, \#(node)}]}"#.utf8)
}

@Suite struct SecDumpSchemaTests {
    let decoder = DumpDecoder()

    func raw(_ bytes: [UInt8]) throws -> ActivityDump { try decoder.decodeRaw(bytes).1 }

    func root(_ bytes: [UInt8]) throws -> ProcessNode { try #require(try raw(bytes).processes.first) }

    // MARK: the published-schema fixtures

    @Test func binaryAndJSONFixturesDecodeToTheSameDump() throws {
        let (pbFormat, pb) = try decoder.decodeRaw(try schemaFixture("secdump-published-schema.pb"))
        let (jsonFormat, json) = try decoder.decodeRaw(try schemaFixture("secdump-published-schema.json"))
        #expect(pbFormat == .datadogProtobuf && jsonFormat == .datadogJSON)

        // Field by field, then the whole value.
        for dump in [pb, json] {
            let cid = "9f2c4b7e1a0d3c5b8e6f4a2d1c0b9e8f7a6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
            #expect(dump.id == nil)
            #expect(dump.workload == Workload(imageName: "nginx", imageTag: "1.27.3", service: "web", containerID: cid,
                                              host: "node-7", cluster: "eu-1", namespace: "prod"))
            #expect(dump.start == 1_764_400_000_000_000_000 && dump.end == 1_764_400_300_000_000_000)
            #expect(dump.differentiateArgs)

            let master = try #require(dump.processes.first)
            #expect(dump.processes.count == 1)
            #expect(master.path == "/usr/sbin/nginx" && master.argv0 == "nginx" && master.comm == "nginx")
            #expect(master.args == ["-g", "daemon off;"] && master.pid == 4242 && !master.isExecChild)
            #expect(master.files == [
                FileAccess(path: "/etc/nginx/nginx.conf", flags: 0o2000000, mode: 0),
                FileAccess(path: "/etc/nginx/mime.types", flags: 0, mode: 0),
                FileAccess(path: "/var/run/nginx.pid", flags: 0o2001101, mode: 0o644),
            ])
            #expect(master.dns == [DNSRequest(name: "api.example.com", type: "A"), DNSRequest(name: "api.example.com", type: "AAAA"),
                                   DNSRequest(name: "_http._tcp.backend.svc", type: "SRV")])
            #expect(master.binds == [
                SocketBind(family: "AF_INET", ip: "0.0.0.0", port: 80, protocol: "tcp"),
                SocketBind(family: "AF_INET", ip: "0.0.0.0", port: 443, protocol: "udp"),
                SocketBind(family: "AF_INET6", ip: "::", port: 80, protocol: "tcp"),
            ])
            // The packed `syscalls` list, then the syscall nodes (syscall 0 is left out of the binary form).
            #expect(master.syscalls == ["syscall_0", "syscall_1", "syscall_2", "syscall_3", "syscall_41", "syscall_49", "syscall_50",
                                        "syscall_257", "syscall_0", "syscall_1", "syscall_3", "syscall_41", "syscall_49",
                                        "syscall_50", "syscall_257"])
            // CAP_CHOWN is capability 0 (absent from the binary form); CAP_SYS_RESOURCE was tried and refused.
            #expect(master.capabilities == ["CAP_CHOWN", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_SYS_RESOURCE"])

            #expect(master.children.map(\.path) == ["/usr/sbin/nginx", "/bin/sh"])
            let worker = master.children[0]
            #expect(worker.pid == nil, "pid 0: absent from the binary form, 0 in the JSON")
            #expect(worker.files.map(\.path) == ["/var/log/nginx/access.log", "/var/cache/nginx/client_temp/0000000001"])
            #expect(worker.files.map(\.flags) == [0o2102001, 0o2100302] && worker.files.map(\.mode) == [0o644, 0o600])
            #expect(worker.syscalls.prefix(5) == ["syscall_0", "syscall_1", "syscall_3", "syscall_232", "syscall_288"])

            let shell = master.children[1]
            #expect(shell.args == ["-c", "curl -fsS http://localhost/healthz"] && shell.pid == 4300)
            #expect(shell.syscalls == ["syscall_56", "syscall_59", "syscall_61"])
            let curl = try #require(shell.children.first)
            #expect(curl.path == "/usr/bin/curl" && curl.isExecChild && curl.pid == 4301)
            #expect(curl.dns == [DNSRequest(name: "localhost", type: "A"), DNSRequest(name: "localhost", type: "AAAA")])
            #expect(curl.syscalls == ["syscall_0", "syscall_41", "syscall_42", "syscall_59"])
        }
        #expect(pb == json)
    }

    @Test func binaryAndJSONFixturesGetTheSameDumpID() throws {
        let pb = try decoder.decode(try schemaFixture("secdump-published-schema.pb"), receivedAt: 1)
        let json = try decoder.decode(try schemaFixture("secdump-published-schema.json"), receivedAt: 2)
        #expect(pb.sourceFormat == "datadog-protobuf" && json.sourceFormat == "datadog-json")
        #expect(pb.dumpID.hasPrefix("sha256:"))
        #expect(pb.dumpID == json.dumpID)
        #expect(pb.dump == json.dump)
        #expect(pb.profileKey == "nginx")
        // After normalisation the exec'd curl sits next to sh, as docs/dump-formats.md says.
        #expect(Set(pb.dump.processes[0].children.map(\.path)).isSuperset(of: ["/bin/sh", "/usr/bin/curl"]))
    }

    /// Cut anywhere or with bytes flipped, the published-schema fixture decodes or is rejected: it never traps.
    @Test func damagedBinaryNeverTraps() throws {
        let bytes = try schemaFixture("secdump-published-schema.pb")
        for n in 0..<bytes.count {
            _ = try? decoder.decode(Array(bytes.prefix(n)), contentType: "application/x-protobuf", receivedAt: 1)
        }
        var seed: UInt64 = 0x5EED
        for _ in 0..<3000 {
            var damaged = bytes
            for _ in 0..<3 {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                damaged[Int(seed >> 33) % damaged.count] = UInt8(truncatingIfNeeded: seed >> 17)
            }
            _ = try? decoder.decode(damaged, contentType: "application/x-protobuf", receivedAt: 1)
        }
    }

    // MARK: one test per field the reader used to get wrong

    /// BindNode: port 1, ip 2, image_tags 4, protocol 5. Field 4 used to be read as the protocol.
    @Test func bindProtocolIsField5() throws {
        let pb = binaryDump { node in
            node.message(F.ProcessActivityNode.sockets) { s in
                s.string(F.SocketNode.family, "AF_INET")
                s.message(F.SocketNode.bind) { b in
                    b.int(F.BindNode.port, 443)
                    b.string(F.BindNode.ip, "0.0.0.0")
                    b.string(F.BindNode.imageTags, "1.27.3")
                    b.int(F.BindNode.protocol, 17)
                    b.nodeBase(F.BindNode.nodeBase)
                }
            }
        }
        let udp = SocketBind(family: "AF_INET", ip: "0.0.0.0", port: 443, protocol: "udp")
        #expect(try root(pb).binds == [udp])
        let json = jsonDump(#""sockets": [{"family": "AF_INET", "bind": [{"port": 443, "ip": "0.0.0.0", "image_tags": ["1.27.3"], "protocol": 17}]}]"#)
        #expect(try root(json).binds == [udp])
    }

    /// SyscallNode: image_tags 1, syscall 2 (int32), node_base 3. A node used to reject the whole dump.
    @Test func syscallNodeIsField2Int32() throws {
        let pb = binaryDump { node in
            for n: Int32 in [257, -1] {
                node.message(F.ProcessActivityNode.syscallNodes) { s in
                    s.string(F.SyscallNode.imageTags, "1.27.3")
                    s.int32(F.SyscallNode.syscall, n)
                    s.nodeBase(F.SyscallNode.nodeBase)
                }
            }
        }
        #expect(try root(pb).syscalls == ["syscall_257", "syscall_-1"])
        let json = jsonDump(#""syscall_nodes": [{"image_tags": ["1.27.3"], "syscall": 257}, {"syscall": -1}]"#)
        #expect(try root(json).syscalls == ["syscall_257", "syscall_-1"])
    }

    /// CapabilityNode: node_base 1, capability 2 (uint64), is_capable 3. Capabilities used to vanish.
    @Test func capabilityNodeIsField2Uint64() throws {
        let pb = binaryDump { node in
            node.message(F.ProcessActivityNode.capabilityNodes) { c in
                c.nodeBase(F.CapabilityNode.nodeBase)
                c.int(F.CapabilityNode.capability, 10)
                c.bool(F.CapabilityNode.isCapable, true)
            }
            node.message(F.ProcessActivityNode.capabilityNodes) { c in
                c.int(F.CapabilityNode.capability, 21)
            }
        }
        #expect(try root(pb).capabilities == ["CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"])
        // uint64 is a string in the JSON mapping; a number or a name is read the same.
        let json = jsonDump(#""capability_nodes": [{"capability": "10", "is_capable": true}, {"capability": 21, "is_capable": false}]"#)
        #expect(try root(json).capabilities == ["CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"])
        let named = jsonDump(#""capability_nodes": [{"capability": "CAP_NET_BIND_SERVICE"}, {"capability": "cap_sys_admin"}]"#)
        #expect(try root(named).capabilities == ["CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"])
    }

    /// A zero pid is absent from the binary form and 0 or "0" in JSON: the same dump, the same id.
    @Test func zeroPidDecodesLikeAbsentPid() throws {
        var w = ProtobufWriter()
        w.string(F.SecDump.tags, "image_name:app")
        w.message(F.SecDump.tree) { node in
            node.message(F.ProcessActivityNode.process) { p in p.message(F.ProcessInfo.file) { f in f.string(F.FileInfo.path, "/app") } }
        }
        let pb = try decoder.decode(w.bytes, receivedAt: 1)
        #expect(pb.dump.processes[0].pid == nil)
        for pid in ["0", #""0""#, "null"] {
            let json = try decoder.decode(jsonDump(#""files": []"#, process: #""pid": \#(pid), "file": {"path": "/app"}"#), receivedAt: 1)
            #expect(json.dump == pb.dump, "pid \(pid)")
            #expect(json.dumpID == pb.dumpID, "pid \(pid)")
        }
    }

    /// Every other zero value proto3 leaves out: syscall 0, capability 0, DNS type 0, protocol 0,
    /// empty family and ip, open flags/mode 0, false booleans.
    @Test func zeroValuesDecodeLikeAbsentFields() throws {
        let pb = binaryDump { node in
            node.message(F.ProcessActivityNode.syscallNodes) { s in s.string(F.SyscallNode.imageTags, "t") }
            node.message(F.ProcessActivityNode.capabilityNodes) { c in c.nodeBase(F.CapabilityNode.nodeBase) }
            node.message(F.ProcessActivityNode.dnsNames) { d in d.message(F.DNSNode.requests) { r in r.string(F.DNSInfo.name, "a.example") } }
            node.message(F.ProcessActivityNode.sockets) { s in s.message(F.SocketNode.bind) { b in b.int(F.BindNode.port, 8080) } }
            node.message(F.ProcessActivityNode.files) { f in
                f.string(F.FileActivityNode.name, "etc")
                f.message(F.FileActivityNode.children) { c in
                    c.string(F.FileActivityNode.name, "hosts")
                    c.message(F.FileActivityNode.open) { _ in }
                }
            }
        }
        let json = jsonDump(#"""
            "syscall_nodes": [{"image_tags": ["t"], "syscall": 0}],
            "capability_nodes": [{"capability": "0", "is_capable": false}],
            "dns_names": [{"requests": [{"name": "a.example", "type": 0, "class": 0, "size": 0, "count": 0}]}],
            "sockets": [{"family": "", "bind": [{"port": 8080, "ip": "", "protocol": 0}]}],
            "files": [{"name": "etc", "children": [{"name": "hosts", "is_pattern": false,
                       "open": {"retval": "0", "flags": 0, "mode": 0}}]}],
            "syscalls": [], "generation_type": "UNKNOWN"
            """#, process: #""pid": 10, "file": {"path": "/app", "basename": ""}, "argv0": "", "comm": "", "is_exec_child": false, "args": []"#)
        let expected = ProcessNode(path: "/app", pid: 10, files: [FileAccess(path: "/etc/hosts")], dns: [DNSRequest(name: "a.example", type: "A")],
                                   binds: [SocketBind(family: "AF_INET", ip: "0.0.0.0", port: 8080, protocol: "tcp")],
                                   syscalls: ["syscall_0"], capabilities: ["CAP_CHOWN"])
        #expect(try root(pb) == expected)
        #expect(try root(json) == expected)
        #expect(try decoder.decode(pb, receivedAt: 1).dumpID == decoder.decode(json, receivedAt: 1).dumpID)
    }

    /// Numbers and names of the same enum-like value come out the same.
    @Test func enumsAsNumbersOrNamesComeOutAlike() throws {
        for type in ["28", #""28""#, #""AAAA""#, #""aaaa""#] {
            let json = jsonDump(#""dns_names": [{"requests": [{"name": "a.example", "type": \#(type)}]}]"#)
            #expect(try root(json).dns == [DNSRequest(name: "a.example", type: "AAAA")], "type \(type)")
        }
        for proto in ["17", #""17""#, #""udp""#, #""UDP""#, #""IPPROTO_UDP""#] {
            let json = jsonDump(#""sockets": [{"family": "AF_INET", "bind": [{"port": 53, "ip": "0.0.0.0", "protocol": \#(proto)}]}]"#)
            #expect(try root(json).binds.map(\.protocol) == ["udp"], "protocol \(proto)")
        }
        // Binary enums become the names the JSON mapping writes; unnamed numbers stay numbers.
        var w = ProtobufWriter()
        w.message(F.SecDump.tree) { node in node.int(F.ProcessActivityNode.generationType, 1) }
        w.message(F.SecDump.tree) { node in node.int(F.ProcessActivityNode.generationType, 2) }
        w.message(F.SecDump.tree) { node in node.int(F.ProcessActivityNode.generationType, 4) }
        let tree = try #require(try DatadogDumpProtobuf.decode(w.bytes, maxNesting: 8)["tree"] as? [[String: Any]])
        #expect(tree.map { $0["generation_type"] as? String } == ["RUNTIME", "SNAPSHOT", nil])
        #expect(tree[2]["generation_type"] as? Int == 4)
    }

    /// Metadata: name 5, differentiate_args 7, container_id 9, start 10 and end 11 (uint64).
    @Test func metadataFields() throws {
        var w = ProtobufWriter()
        w.message(F.SecDump.metadata) { m in
            m.string(F.Metadata.comm, "ignored")
            m.string(F.Metadata.name, "dump-7")
            m.bool(F.Metadata.differentiateArgs, true)
            m.string(F.Metadata.containerID, "c0ffee")
            m.int(F.Metadata.start, 1_764_400_000_000_000_000)
            m.int(F.Metadata.end, 1_764_400_300_000_000_000)
        }
        w.string(F.SecDump.tags, "image_name:app")
        let dump = try raw(w.bytes)
        #expect(dump.id == "dump-7" && dump.differentiateArgs && dump.workload.containerID == "c0ffee")
        #expect(dump.start == 1_764_400_000_000_000_000 && dump.end == 1_764_400_300_000_000_000)
    }

    /// ProcessInfo: pid 1, file 6 (FileInfo.path 11), comm 11, args 16, argv0 17, is_exec_child 21.
    @Test func processInfoFields() throws {
        let pb = binaryDump { node in
            node.message(F.ProcessActivityNode.children) { child in
                child.message(F.ProcessActivityNode.process) { p in
                    p.int(F.ProcessInfo.pid, 11)
                    p.int(F.ProcessInfo.ppid, 10)
                    p.message(F.ProcessInfo.file) { f in f.string(F.FileInfo.path, "/bin/busybox"); f.string(F.FileInfo.basename, "busybox") }
                    p.string(F.ProcessInfo.comm, "wget")
                    p.string(F.ProcessInfo.args, "-q")
                    p.string(F.ProcessInfo.args, "")
                    p.string(F.ProcessInfo.argv0, "wget")
                    p.bool(F.ProcessInfo.isExecChild, true)
                }
            }
        }
        let child = try #require(try root(pb).children.first)
        #expect(child == ProcessNode(path: "/bin/busybox", argv0: "wget", args: ["-q", ""], comm: "wget", pid: 11, isExecChild: true))
    }

    /// FileActivityNode: name 1, file 2, open 5 (OpenNode: retval 1 sint64, flags 2, mode 3), children 6.
    @Test func fileNodeFields() throws {
        let pb = binaryDump { node in
            node.message(F.ProcessActivityNode.files) { f in
                f.string(F.FileActivityNode.name, "tmp")
                f.int(F.FileActivityNode.generationType, 1)
                f.message(F.FileActivityNode.children) { c in
                    c.string(F.FileActivityNode.name, "x")
                    c.string(F.FileActivityNode.imageTags, "1.0")
                    c.message(F.FileActivityNode.file) { fi in fi.string(F.FileInfo.path, "/tmp/x") }
                    c.message(F.FileActivityNode.open) { o in
                        o.sint64(F.OpenNode.retval, -13)
                        o.int(F.OpenNode.flags, 0o100 | 0o1)
                        o.int(F.OpenNode.mode, 0o600)
                    }
                }
            }
        }
        #expect(try root(pb).files == [FileAccess(path: "/tmp/x", flags: 0o101, mode: 0o600)])
        let open = try DatadogDumpProtobuf.openNode({ var o = ProtobufWriter(); o.sint64(F.OpenNode.retval, -13); return o.bytes[...] }())
        #expect(open["retval"] as? String == "-13")
    }

    /// A value whose wire type does not fit the field's declared type is rejected, naming the field.
    @Test func wrongWireTypeIsRejectedNotMisread() throws {
        let pb = binaryDump { node in
            node.message(F.ProcessActivityNode.sockets) { s in
                s.message(F.SocketNode.bind) { b in b.int(F.BindNode.port, 80); b.string(F.BindNode.protocol, "udp") }
            }
        }
        let error = #expect(throws: Rejection.self) { try decoder.decodeRaw(pb) }
        #expect(error?.code == "invalid_protobuf")
        #expect(error?.reason.contains("BindNode.protocol") == true)
    }
}
