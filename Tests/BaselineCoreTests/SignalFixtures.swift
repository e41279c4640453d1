import BaselineCore
import Foundation

/// Builds Datadog-shaped security-signal JSON and parses it with the production parser, so tests
/// exercise the same path as the enricher.
struct SignalFixture {
    struct Proc {
        var path: String
        var argv0: String?
        var args: [String] = []
        var pid: Int64?
        /// nil: a host process (no container object), as the agent reports processes above the workload.
        var container: String?

        init(_ path: String, argv0: String? = nil, args: [String] = [], pid: Int64? = nil, container: String? = "c0") {
            self.path = path
            self.argv0 = argv0
            self.args = args
            self.pid = pid
            self.container = container
        }

        static func host(_ path: String) -> Proc { Proc(path, container: nil) }

        var json: [String: Any] {
            var o: [String: Any] = ["executable": ["path": path]]
            if let argv0 { o["argv0"] = argv0 }
            if !args.isEmpty { o["args"] = args }
            if let pid { o["pid"] = pid }
            if let container { o["container"] = ["id": container] }
            return o
        }
    }

    /// Host processes above every workload in these tests.
    static let host: [Proc] = [.host("/usr/bin/containerd-shim-runc-v2"), .host("/usr/lib/systemd/systemd")]

    /// `process` with `ancestors` (nearest first; host processes are appended unless `hostAbove` is false).
    static func signal(_ event: String, _ process: Proc, ancestors: [Proc]?, rule: String = "r1", image: String = "nginx",
                       tag: String = "1.25", container: String? = "c0", hostAbove: Bool = true, parentOnly: Proc? = nil,
                       extra: [String: Any] = [:]) throws -> SecuritySignal {
        var p = process.json
        if let ancestors { p["ancestors"] = (ancestors + (hostAbove ? host : [])).map(\.json) }
        if let parentOnly { p["parent"] = parentOnly.json }
        var root: [String: Any] = ["agent": ["rule_id": rule], "evt": ["name": event], "process": p,
                                   "tags": ["image_name:\(image)", "image_tag:\(tag)"]]
        if let container { root["container"] = ["id": container] }
        for (k, v) in extra { root[k] = v }
        let bytes = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
        return try SecuritySignal.parse(Array(bytes))
    }

    static func file(_ path: String) -> [String: Any] { ["file": ["path": path]] }
    static func dns(_ name: String, type: Any = "A") -> [String: Any] { ["dns": ["question": ["name": name, "type": type]]] }
    static func bind(port: Int, ip: String = "0.0.0.0", protocol: Any = "tcp") -> [String: Any] {
        ["bind": ["addr": ["ip": ip, "port": port, "family": "AF_INET"], "protocol": `protocol`]]
    }
}

/// nginx:1.25 as containers run it: containerd-shim → /bin/sh (entrypoint) → nginx (+ workers);
/// every instance reads its config, resolves api.example.com, binds :80 and writes session files
/// (`/tmp/sess-<n>`, mined into `sess-*`); one instance also ran `awk` under nginx; a busybox
/// sidecar shell runs `wget`.
struct NginxProfile {
    static let instances = 5

    static func dump(_ i: Int) -> ActivityDump {
        let nginx = ProcessNode(
            path: "/usr/sbin/nginx", pid: 20,
            files: [FileAccess(path: "/etc/nginx/nginx.conf"), FileAccess(path: "/tmp/sess-\(i)a\(i)"),
                    FileAccess(path: "/tmp/sess-\(i)b\(i + 1)"), FileAccess(path: "/proc/20/status")],
            dns: [DNSRequest(name: "api.example.com", type: "A")], binds: [SocketBind(port: 80)],
            children: [ProcessNode(path: "/usr/sbin/nginx", pid: 21)] + (i == 0 ? [ProcessNode(path: "/usr/bin/awk", pid: 22)] : []))
        let busybox = ProcessNode(path: "/bin/busybox", argv0: "sh", pid: 30,
                                  children: [ProcessNode(path: "/bin/busybox", argv0: "wget", pid: 31,
                                                         dns: [DNSRequest(name: "updates.example.com", type: "A")])])
        return ActivityDump(workload: Workload(imageName: "nginx", imageTag: "1.25", containerID: "c\(i)"), processes: [
            ProcessNode(path: "/usr/bin/containerd-shim-runc-v2", children: [
                ProcessNode(path: "/bin/sh", pid: 10, children: [nginx, busybox]),
            ]),
        ])
    }

    static func state(stable: Bool = true, differentiateArgs: Bool = false) -> VersionState {
        var v = ProfileVersion(profileKey: "nginx", imageTag: "1.25", miner: PatternMiner(threshold: 5))
        for i in 0..<instances {
            var d = dump(i)
            d.differentiateArgs = differentiateArgs
            v.merge(DumpNormalizer().normalize(d), at: Int64(i))
        }
        var lifecycle: [EventType: EventTypeLifecycle] = [:]
        for t in EventType.allCases { lifecycle[t] = EventTypeLifecycle(state: stable ? .stable : .learning, learningSince: 0, lastNewNodeAt: 0) }
        return VersionState(version: v, lifecycle: lifecycle)
    }

    static let sh = SignalFixture.Proc("/bin/sh", pid: 10)
    static let nginx = SignalFixture.Proc("/usr/sbin/nginx", pid: 20)
    static let worker = SignalFixture.Proc("/usr/sbin/nginx", pid: 21)
}
