import BaselineCore
import Testing

@Suite struct PathNormalizerTests {
    let n = PathNormalizer()

    @Test(arguments: [
        ("/proc/42/status", Int64(42), "/proc/self/status"),
        ("/proc/43/status", Int64(42), "/proc/*/status"),
        ("/proc/42/task/77/stat", Int64(42), "/proc/self/task/*/stat"),
        ("/proc/sys/net/core/somaxconn", Int64(42), "/proc/sys/net/core/somaxconn"),
        ("/var/lib/docker/containers/3b1f6a0c9d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c/hostname", nil,
         "/var/lib/docker/containers/*/hostname"),
        ("/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234abcd_5678_90ef.slice/cri-containerd-3b1f6a0c9d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c.scope/memory.max",
         nil, "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod*.slice/cri-containerd-*.scope/memory.max"),
        ("/dev/loop12", nil, "/dev/loop*"),
        ("/dev/dm-3", nil, "/dev/dm-*"),
        ("/dev/null", nil, "/dev/null"),
        ("/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_03_12_34_56.123456789/token", nil,
         "/var/run/secrets/kubernetes.io/serviceaccount/..*/token"),
        ("/var/run/secrets/kubernetes.io/serviceaccount/..data/token", nil, "/var/run/secrets/kubernetes.io/serviceaccount/..data/token"),
        ("/etc/nginx/nginx.conf", nil, "/etc/nginx/nginx.conf"),
    ] as [(String, Int64?, String)])
    func reduces(_ input: String, _ pid: Int64?, _ expected: String) {
        #expect(n.normalize(input, pid: pid) == expected)
    }
}

@Suite struct DumpNormalizerTests {
    let normalizer = DumpNormalizer()

    func dump(_ processes: [ProcessNode], differentiateArgs: Bool = false) -> ActivityDump {
        ActivityDump(workload: Workload(imageName: "app"), differentiateArgs: differentiateArgs, processes: processes)
    }

    @Test func dropsRuntimeRoots() {
        let tree = [ProcessNode(path: "/usr/bin/runc", children: [
            ProcessNode(path: "/usr/bin/containerd-shim-runc-v2", children: [ProcessNode(path: "/app")]),
        ])]
        #expect(normalizer.normalize(dump(tree)).processes.map(\.path) == ["/app"])
    }

    @Test func rebasesExecChains() {
        // /entrypoint.sh execs /bin/sh which execs /app: all three are siblings under init.
        let tree = [ProcessNode(path: "/init", children: [
            ProcessNode(path: "/entrypoint.sh", children: [
                ProcessNode(path: "/bin/sh", isExecChild: true, children: [ProcessNode(path: "/app", isExecChild: true)]),
            ]),
        ])]
        let out = normalizer.normalize(dump(tree)).processes
        #expect(out.map(\.path) == ["/init"])
        #expect(out[0].children.map(\.path) == ["/entrypoint.sh", "/bin/sh", "/app"])
        #expect(out[0].children.allSatisfy { !$0.isExecChild })
    }

    @Test func collapsesSameBinaryAncestors() {
        let tree = [ProcessNode(path: "/usr/sbin/nginx", files: [FileAccess(path: "/etc/nginx/nginx.conf")], children: [
            ProcessNode(path: "/usr/sbin/nginx", files: [FileAccess(path: "/var/log/nginx/access.log")],
                        children: [ProcessNode(path: "/bin/sh")]),
        ])]
        let out = normalizer.normalize(dump(tree)).processes
        #expect(out.count == 1)
        #expect(out[0].files.map(\.path) == ["/etc/nginx/nginx.conf", "/var/log/nginx/access.log"])
        #expect(out[0].children.map(\.path) == ["/bin/sh"])
    }

    @Test func mergesIdenticalSiblingsAndOrsFlags() {
        let tree = [ProcessNode(path: "/app", children: [
            ProcessNode(path: "/bin/sh", args: ["-c", "a"], files: [FileAccess(path: "/tmp/x", flags: 1, mode: 0o600)]),
            ProcessNode(path: "/bin/sh", args: ["-c", "b"], files: [FileAccess(path: "/tmp/x", flags: 64, mode: 0o644)],
                        dns: [DNSRequest(name: "a.example")]),
            ProcessNode(path: "/bin/sh", args: ["-c", "b"], dns: [DNSRequest(name: "a.example")]),
        ])]
        let merged = normalizer.normalize(dump(tree)).processes[0].children
        #expect(merged.count == 1)
        #expect(merged[0].files == [FileAccess(path: "/tmp/x", flags: 65, mode: 0o644 | 0o600)])
        #expect(merged[0].dns == [DNSRequest(name: "a.example")])

        // With differentiate_args the two command lines stay apart.
        let apart = normalizer.normalize(dump(tree, differentiateArgs: true)).processes[0].children
        #expect(apart.count == 2)
    }

    @Test func multiCallBinariesAreDistinguishedByArgv0() {
        let tree = [ProcessNode(path: "/app", children: [
            ProcessNode(path: "/bin/busybox", argv0: "wget"), ProcessNode(path: "/bin/busybox", argv0: "sh"),
            ProcessNode(path: "/bin/busybox", argv0: "wget"),
        ])]
        #expect(normalizer.normalize(dump(tree)).processes[0].children.compactMap(\.argv0) == ["wget", "sh"])
    }

    @Test func normalisationIsIdempotent() throws {
        let r = try DumpDecoder().decode(try fixture("examples/dumps/datadog-secdump.json"), receivedAt: 0)
        #expect(normalizer.normalize(r.dump) == r.dump)
    }
}
