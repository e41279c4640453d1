import BaselineCore
import Foundation
import Testing

typealias P = SignalFixture.Proc

@Suite struct EnrichmentTests {
    let config = EnrichmentConfiguration()

    func enrich(_ s: SecuritySignal, _ state: VersionState = NginxProfile.state(), suppressions: SuppressionIndex = SuppressionIndex(),
                config: EnrichmentConfiguration = EnrichmentConfiguration()) -> EnrichmentResult {
        Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state), suppressions: suppressions, config: config)
    }

    @Test func commonBehaviourOfAStableProfileYieldsASuggestionAsWideAsTheNode() throws {
        let s = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh])
        let r = enrich(s)
        #expect(r.context.inProfile && !r.context.anomaly && r.context.match == "exact" && r.context.lineageBoundary == "container")
        #expect(r.context.node?.lineage == ["/bin/sh", "/usr/sbin/nginx"] && r.context.node?.commonality == 1)
        let suggestion = try #require(r.suggestion)
        #expect(suggestion.query == "@container.image_name:nginx @process.executable.path:/usr/sbin/nginx @process.parent.executable.path:/bin/sh")
        #expect(suggestion.suggestionID == SuppressionSuggestion.id(ruleID: "r1", profileKey: "nginx",
                                                                    node: .process(lineage: ["/bin/sh", "/usr/sbin/nginx"])))
    }

    /// A suggestion already published is not built again; the signal's context says the same.
    @Test func aPublishedSuggestionIsNotBuiltAgain() throws {
        let s = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh])
        let fresh = enrich(s)
        let id = try #require(fresh.suggestion?.suggestionID)
        let known = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: NginxProfile.state()),
                                      suppressions: SuppressionIndex(), config: config, isPublished: { $0 == id })
        #expect(known.suggestion == nil && known.context == fresh.context && known.context.suggestionID == id)
        // Another id known: this one is still built.
        let other = Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: NginxProfile.state()),
                                      suppressions: SuppressionIndex(), config: config, isPublished: { $0 != id })
        #expect(other.suggestion == fresh.suggestion)
    }

    @Test func theEntrypointMatchesOnlyAsTheWorkloadRoot() throws {
        let root = try SignalFixture.signal("exec", NginxProfile.sh, ancestors: [])
        let r = enrich(root)
        #expect(r.context.inProfile && r.context.node?.lineage == ["/bin/sh"])
        #expect(r.suggestion?.query == "@container.image_name:nginx @process.executable.path:/bin/sh -@process.parent.container.id:*")
    }

    // MARK: attack shapes

    @Test func aWebShellUnderTheServerIsAnAnomalyNotTheEntrypoint() throws {
        let shell = try SignalFixture.signal("exec", P("/bin/sh", pid: 99), ancestors: [NginxProfile.worker, NginxProfile.nginx, NginxProfile.sh])
        let r = enrich(shell)
        #expect(!r.context.inProfile && r.context.anomaly && r.context.match == "none")
        #expect(r.suggestion == nil && !r.context.suppressed)
        // Even with every suppression the profile could have, nothing applies to it.
        let all = SuppressionIndex(NginxProfile.state().version.nodes.keys.map {
            Suppression(id: "s-\($0)", ruleID: "r1", profileKey: "nginx", nodeKey: $0, query: "")
        })
        #expect(!enrich(shell, suppressions: all).context.suppressed)
    }

    @Test func anEscapeThroughAKnownHelperIsAnAnomaly() throws {
        // awk ran under nginx on one instance, but never spawned anything.
        let awk = P("/usr/bin/awk", pid: 40)
        #expect(enrich(try SignalFixture.signal("exec", awk, ancestors: [NginxProfile.nginx, NginxProfile.sh])).context.inProfile)
        let escape = try SignalFixture.signal("exec", P("/bin/sh", pid: 41), ancestors: [awk, NginxProfile.nginx, NginxProfile.sh])
        let r = enrich(escape)
        #expect(!r.context.inProfile && r.context.anomaly && r.suggestion == nil)
    }

    @Test func anotherAppletOfAKnownMultiCallBinaryIsAnAnomaly() throws {
        let shell = P("/bin/busybox", argv0: "sh", pid: 30)
        let wget = try SignalFixture.signal("exec", P("/bin/busybox", argv0: "/bin/wget", pid: 31), ancestors: [shell, NginxProfile.sh])
        let known = enrich(wget)
        #expect(known.context.inProfile && known.context.node?.lineage == ["/bin/sh", "/bin/busybox[sh]", "/bin/busybox[wget]"])
        #expect(known.suggestion?.query.contains("@process.argv0:wget") == true)
        #expect(known.suggestion?.query.contains("@process.parent.argv0:sh") == true)
        let nc = try SignalFixture.signal("exec", P("/bin/busybox", argv0: "nc", pid: 32), ancestors: [shell, NginxProfile.sh])
        let suppressWget = SuppressionIndex([Suppression(id: "s1", ruleID: "r1", profileKey: "nginx",
                                                         nodeKey: try #require(known.context.node.map { _ in
                                                             ProfileNodeKey.process(lineage: ["/bin/sh", "/bin/busybox[sh]", "/bin/busybox[wget]"]) }),
                                                         query: "")])
        #expect(enrich(wget, suppressions: suppressWget).context.suppressed)
        let r = enrich(nc, suppressions: suppressWget)
        #expect(!r.context.inProfile && r.context.anomaly && !r.context.suppressed && r.suggestion == nil)
    }

    @Test func knownActivityUnderAnUnknownParentIsAnAnomaly() throws {
        let python = P("/usr/bin/python3", pid: 50)
        let strayNginx = P("/usr/sbin/nginx", pid: 51)
        for extra in [SignalFixture.file("/etc/nginx/nginx.conf"), SignalFixture.dns("api.example.com"), SignalFixture.bind(port: 80)] {
            let event = extra["file"] != nil ? "open" : extra["dns"] != nil ? "dns" : "bind"
            let usual = try SignalFixture.signal(event, NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: extra)
            #expect(enrich(usual).context.inProfile, "\(event) by nginx under the entrypoint is known")
            let stray = try SignalFixture.signal(event, strayNginx, ancestors: [python, NginxProfile.sh], extra: extra)
            let r = enrich(stray)
            #expect(!r.context.inProfile && r.context.anomaly && r.suggestion == nil, "\(event) under python must not match")
        }
    }

    @Test func aKnownFileOpenedByAnUnknownProcessIsAnAnomaly() throws {
        let cat = try SignalFixture.signal("open", P("/usr/bin/cat", pid: 60), ancestors: [NginxProfile.nginx, NginxProfile.sh],
                                           extra: SignalFixture.file("/etc/nginx/nginx.conf"))
        let r = enrich(cat)
        #expect(!r.context.inProfile && r.context.anomaly && r.suggestion == nil)
    }

    @Test func aLineageOneLevelHigherOrLowerIsADifferentLineage() throws {
        // An extra process inside the container above the entrypoint (an injected init).
        let higher = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh, P("/sbin/tini", pid: 1)])
        #expect(!enrich(higher).context.inProfile)
        // nginx started directly as the root (no entrypoint shell).
        let lower = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [])
        #expect(!enrich(lower).context.inProfile && enrich(lower).context.anomaly)
    }

    @Test func aSignalWithoutAncestryIsNeverMatchedSuggestedOrSuppressed() throws {
        let node = ProfileNodeKey.process(lineage: ["/bin/sh", "/usr/sbin/nginx"])
        let everything = SuppressionIndex([Suppression(id: "s1", ruleID: "r1", profileKey: "nginx", nodeKey: node, query: ""),
                                           Suppression(id: "s2", ruleID: "r1", profileKey: "nginx", nodeKey: .process(lineage: ["/usr/sbin/nginx"]), query: "")])
        let bare = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: nil)
        let r = enrich(bare, suppressions: everything)
        #expect(r.context.match == "no_ancestry" && !r.context.inProfile && !r.context.anomaly)
        #expect(r.suggestion == nil && !r.context.suppressed && r.context.suggestionID == nil)
        // Only a parent, inside the container: the rest of the chain is unknown.
        let parentOnly = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: nil, parentOnly: NginxProfile.sh)
        #expect(enrich(parentOnly, suppressions: everything).context.match == "no_ancestry")
        // Only a parent, outside the container: the process is the workload's root.
        let rootWithHostParent = try SignalFixture.signal("exec", NginxProfile.sh, ancestors: nil, parentOnly: .host("/usr/bin/containerd-shim-runc-v2"))
        #expect(enrich(rootWithHostParent).context.inProfile)
        // Auto-suppression does not apply either.
        var auto = EnrichmentConfiguration()
        auto.autoSuppress = [.exec]
        #expect(!enrich(bare, config: auto).context.suppressed)
    }

    @Test func withoutPerAncestorContainersRuntimesAboveTheRootAreStrippedAndSaidSo() throws {
        let s = try SignalFixture.signal("exec", P("/usr/sbin/nginx", container: nil), ancestors: [P("/bin/sh", container: nil)])
        let r = enrich(s)
        #expect(r.context.inProfile && r.context.lineageBoundary == "runtime")
        // A binary named like a runtime inside the workload does not reset the lineage.
        let fakeRuntime = try SignalFixture.signal("exec", P("/bin/sh", container: nil),
                                                   ancestors: [P("/tmp/runc", container: nil), P("/usr/sbin/nginx", container: nil), P("/bin/sh", container: nil)])
        #expect(!enrich(fakeRuntime).context.inProfile)
        // Neither container information nor a runtime: the whole chain, reported as unbounded.
        let unbounded = try SignalFixture.signal("exec", P("/usr/sbin/nginx", container: nil), ancestors: [P("/bin/sh", container: nil)],
                                                 container: nil, hostAbove: false)
        #expect(enrich(unbounded).context.lineageBoundary == "unbounded")
    }

    @Test func filesOutsideAMinedPatternsShapeDoNotMatchIt() throws {
        let state = NginxProfile.state()
        let pattern = ProfileNodeKey.file(lineage: ["/bin/sh", "/usr/sbin/nginx"], path: "/tmp/sess-*")
        #expect(state.version.nodes[pattern]?.isPattern == true)
        func open(_ path: String) throws -> EnrichmentResult {
            enrich(try SignalFixture.signal("open", NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.file(path)), state)
        }
        let session = try open("/tmp/sess-77f3")
        #expect(session.context.inProfile && session.context.match == "pattern" && session.context.node?.path == "/tmp/sess-*")
        #expect(session.suggestion?.query.hasSuffix("@file.path:/tmp/sess-*") == true)
        for outside in ["/tmp/evil.sh", "/tmp/sess-abcd", "/tmp/x9", "/tmp/sess-1/../../etc/shadow", "/tmp/sess-12.sh", "/tmp/payload-99"] {
            let r = try open(outside)
            #expect(!r.context.inProfile && r.context.anomaly, "\(outside) must not match /tmp/sess-*")
        }
        // /proc/<own pid> reduces to /proc/self on both sides.
        #expect(try open("/proc/20/status").context.inProfile)
        #expect(try !open("/proc/1/status").context.inProfile)
    }

    @Test func dnsTypesAndBindProtocolsAreComparedByName() throws {
        let byNumber = try SignalFixture.signal("dns", NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.dns("API.example.com", type: 1))
        #expect(enrich(byNumber).context.inProfile)
        let aaaa = try SignalFixture.signal("dns", NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.dns("api.example.com", type: 28))
        #expect(!enrich(aaaa).context.inProfile)
        let tcp6 = try SignalFixture.signal("bind", NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.bind(port: 80, protocol: 6))
        #expect(enrich(tcp6).context.inProfile)
        let udp = try SignalFixture.signal("bind", NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.bind(port: 80, protocol: "udp"))
        #expect(!enrich(udp).context.inProfile && enrich(udp).context.anomaly)
        let bindQuery = try #require(enrich(tcp6).suggestion?.query)
        #expect(bindQuery.hasSuffix("@bind.addr.family:AF_INET @bind.addr.ip:0.0.0.0 @bind.addr.port:80 @bind.protocol:tcp"))
    }

    @Test func argumentsCountWhenTheProfileDifferentiatesThem() throws {
        let state = NginxProfile.state(differentiateArgs: true)
        let plain = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh])
        #expect(enrich(plain, state).context.inProfile)
        let withArgs = try SignalFixture.signal("exec", P("/usr/sbin/nginx", args: ["-g", "daemon off;"], pid: 20), ancestors: [NginxProfile.sh])
        #expect(!enrich(withArgs, state).context.inProfile)
        #expect(enrich(withArgs).context.inProfile)  // arguments ignored when the profile does not differentiate them
    }

    @Test func rareBehaviourIsInProfileButGetsNoSuggestion() throws {
        let awk = try SignalFixture.signal("exec", P("/usr/bin/awk", pid: 40), ancestors: [NginxProfile.nginx, NginxProfile.sh])
        let r = enrich(awk)
        #expect(r.context.inProfile && r.context.node?.commonality == 0.2 && r.suggestion == nil)
    }

    @Test func learningProfileYieldsNoSuggestionAndNoAnomaly() throws {
        let learning = NginxProfile.state(stable: false)
        let known = enrich(try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh]), learning)
        #expect(known.context.inProfile && known.suggestion == nil && known.context.eventTypeState == "learning")
        let unknown = enrich(try SignalFixture.signal("exec", P("/usr/bin/nc"), ancestors: [NginxProfile.nginx, NginxProfile.sh]), learning)
        #expect(!unknown.context.anomaly)
    }

    @Test func warmUpActivityIsNeverAnAnomaly() throws {
        let created: Int64 = 1_700_000_000_000_000_000
        func shell(at seconds: Int64) throws -> SecuritySignal {
            try SignalFixture.signal("exec", P("/usr/bin/nc"), ancestors: [NginxProfile.nginx, NginxProfile.sh],
                                     extra: ["container": ["id": "c0", "created_at": created], "date": (created + seconds * 1_000_000_000) / 1_000_000])
        }
        let early = enrich(try shell(at: 30))
        #expect(!early.context.anomaly && early.context.warmingUp == true && !early.context.inProfile)
        #expect(enrich(try shell(at: 600)).context.anomaly)
    }

    @Test func suppressionsApplyToTheirRuleAndNodeOnly() throws {
        let s = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh])
        let node = ProfileNodeKey.process(lineage: ["/bin/sh", "/usr/sbin/nginx"])
        let index = SuppressionIndex([Suppression(id: "sup-1", ruleID: "r1", profileKey: "nginx", nodeKey: node, query: "q")])
        let r = enrich(s, suppressions: index)
        #expect(r.context.suppressed && r.context.suppressionID == "sup-1" && r.suggestion == nil)
        let otherRule = try SignalFixture.signal("exec", NginxProfile.nginx, ancestors: [NginxProfile.sh], rule: "r9")
        #expect(!enrich(otherRule, suppressions: index).context.suppressed)
        // The same binary one level down (the worker) is another node.
        let worker = try SignalFixture.signal("open", NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.file("/etc/nginx/nginx.conf"))
        #expect(!enrich(worker, suppressions: index).context.suppressed)
        var auto = EnrichmentConfiguration()
        auto.autoSuppress = [.exec]
        let a = enrich(otherRule, config: auto)
        #expect(a.context.suppressed && a.context.suppressionID == "auto:exec")
    }

    @Test func unknownWorkloadAndNoProfile() throws {
        let s = try SecuritySignal.parse(Array(#"{"evt":{"name":"exec"},"process":{"executable":{"path":"/x"}}}"#.utf8))
        #expect(Enrichment.enrich(s, workload: nil, matcher: nil, suppressions: SuppressionIndex(), config: config).context.status == .unknownWorkload)
        #expect(Enrichment.enrich(s, workload: Workload(imageName: "x"), matcher: nil, suppressions: SuppressionIndex(),
                                  config: config).context.status == .noProfile)
    }

    @Test func enrichedBytesKeepTheOriginal() throws {
        let original = Array(#"{"evt":{"name":"exec"},"process":{"executable":{"path":"/x"}}}"#.utf8)
        let out = try SecuritySignal.appendingBaseline(.noProfile(workload: nil), to: original)
        #expect(Array(out.prefix(original.count - 1)) == Array(original.dropLast()))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect((object["baseline"] as? [String: Any])?["status"] as? String == "unknown_workload")
        #expect(try SecuritySignal.appendingBaseline(.noProfile(workload: nil), to: Array("{ }".utf8)).first == UInt8(ascii: "{"))
    }

    @Test func craftedPathsCannotForgeALineage() throws {
        // A binary whose name holds the key separators must not read as `nginx > sh`.
        let forged = NodeIdentity.process(path: "/usr/sbin/nginx > /bin/sh", argv0: nil, args: [], differentiateArgs: false)
        #expect(!forged.contains(" > ") && !forged.contains(" | "))
        let s = try SignalFixture.signal("exec", P("/usr/sbin/nginx > /bin/sh"), ancestors: [NginxProfile.sh])
        #expect(!enrich(s).context.inProfile)
    }
}

/// The shapes a security review tried against the key builder and the lineage boundary.
@Suite struct KeyBuilderAttackTests {
    func enrich(_ s: SecuritySignal, _ state: VersionState = NginxProfile.state()) -> EnrichmentResult {
        Enrichment.enrich(s, workload: s.workload, matcher: ProfileMatcher(state: state), suppressions: SuppressionIndex(),
                          config: EnrichmentConfiguration())
    }

    @Test func aPathWithSpacesNeverEqualsAPathWithArguments() {
        let implant = NodeIdentity.process(path: "/usr/bin/pg_dump -f /backup/db.sql", argv0: nil, args: ["x"], differentiateArgs: true)
        let real = NodeIdentity.process(path: "/usr/bin/pg_dump", argv0: nil, args: ["-f", "/backup/db.sql"], differentiateArgs: true)
        #expect(implant != real)
        #expect(NodeIdentity.process(path: "/bin/busybox", argv0: "wget] -q", args: [], differentiateArgs: false)
            != NodeIdentity.process(path: "/bin/busybox", argv0: "wget", args: ["-q]"], differentiateArgs: false))
        #expect(NodeIdentity.process(path: "/x", argv0: nil, args: ["a b"], differentiateArgs: true)
            != NodeIdentity.process(path: "/x", argv0: nil, args: ["a", "b"], differentiateArgs: true))
        // Combining marks cannot smuggle a separator or a space past the escaping.
        let fused = NodeIdentity.process(path: "/x >\u{301} /bin/sh", argv0: nil, args: [], differentiateArgs: false)
        #expect(!fused.contains(">") && !fused.contains(" "))
    }

    @Test func busyboxNamedAsItselfPicksTheAppletFromItsArguments() throws {
        #expect(NodeIdentity.process(path: "/bin/busybox", argv0: "busybox", args: ["nc", "-lp", "4444"], differentiateArgs: false)
            == "/bin/busybox[nc]")
        #expect(NodeIdentity.process(path: "/bin/busybox", argv0: "-sh", args: [], differentiateArgs: false) == "/bin/busybox[sh]")
        let shell = P("/bin/busybox", argv0: "sh", pid: 30)
        let nc = try SignalFixture.signal("exec", P("/bin/busybox", argv0: "busybox", args: ["nc", "-lp", "4444"], pid: 33),
                                          ancestors: [shell, NginxProfile.sh])
        let r = enrich(nc)
        #expect(!r.context.inProfile && r.context.anomaly)
    }

    @Test func aSameBinaryChildWithOtherArgumentsIsNotItsParentWhenArgumentsCount() throws {
        // Under differentiate_args, `python3 -c payload` under `python3 server.py` is a new process.
        var v = ProfileVersion(profileKey: "py", imageTag: "1")
        let dump = ActivityDump(workload: Workload(imageName: "py", imageTag: "1", containerID: "c0"), differentiateArgs: true, processes: [
            ProcessNode(path: "/usr/bin/python3", args: ["/app/server.py"], pid: 5, dns: [DNSRequest(name: "db.internal")]),
        ])
        v.merge(DumpNormalizer().normalize(dump), at: 1)
        var lifecycle: [EventType: EventTypeLifecycle] = [:]
        for t in EventType.allCases { lifecycle[t] = EventTypeLifecycle(state: .stable, learningSince: 0, lastNewNodeAt: 0) }
        let state = VersionState(version: v, lifecycle: lifecycle)
        let server = P("/usr/bin/python3", args: ["/app/server.py"], pid: 5)
        let payload = try SignalFixture.signal("exec", P("/usr/bin/python3", args: ["-c", "import os"], pid: 6), ancestors: [server],
                                               image: "py", tag: "1")
        let r = enrich(payload, state)
        #expect(!r.context.inProfile && r.context.anomaly && r.suggestion == nil)
        let worker = try SignalFixture.signal("dns", P("/usr/bin/python3", args: ["/app/server.py"], pid: 7), ancestors: [server],
                                              image: "py", tag: "1", extra: SignalFixture.dns("db.internal"))
        #expect(enrich(worker, state).context.inProfile)  // a forked worker (same argv) is its parent
    }

    @Test func writingAFileThatWasOnlyReadIsNewBehaviour() throws {
        let read = try SignalFixture.signal("open", NginxProfile.nginx, ancestors: [NginxProfile.sh],
                                            extra: ["file": ["path": "/etc/nginx/nginx.conf", "flags": 0o400000]])
        #expect(enrich(read).context.inProfile)
        for flags in [0o1, 0o2, 0o1101, 0o2001] {
            let write = try SignalFixture.signal("open", NginxProfile.nginx, ancestors: [NginxProfile.sh],
                                                 extra: ["file": ["path": "/etc/nginx/nginx.conf", "flags": flags]])
            let r = enrich(write)
            #expect(!r.context.inProfile && r.context.anomaly && r.suggestion == nil, "flags \(flags)")
        }
    }

    @Test func otherFileOperationsOnAKnownPathAreNotKnownBehaviour() throws {
        for event in ["chmod", "unlink", "rename", "link", "setxattr", "mmap", "mprotect", "load_module", "chown", "utimes"] {
            let s = try SignalFixture.signal(event, NginxProfile.nginx, ancestors: [NginxProfile.sh], extra: SignalFixture.file("/etc/nginx/nginx.conf"))
            let r = enrich(s)
            #expect(!r.context.inProfile && r.suggestion == nil && !r.context.suppressed, "\(event)")
        }
    }

    @Test func gapsInTheAncestryFailClosed() throws {
        func raw(_ process: [String: Any], container: String? = "c0") throws -> SecuritySignal {
            var root: [String: Any] = ["agent": ["rule_id": "r1"], "evt": ["name": "exec"], "process": process,
                                       "tags": ["image_name:nginx", "image_tag:1.25"]]
            if let container { root["container"] = ["id": container] }
            return try SecuritySignal.parse(Array(try JSONSerialization.data(withJSONObject: root)))
        }
        let nginx: [String: Any] = ["executable": ["path": "/usr/sbin/nginx"], "container": ["id": "c0"]]
        let sh: [String: Any] = ["executable": ["path": "/bin/sh"], "container": ["id": "c0"]]
        let host: [String: Any] = ["executable": ["path": "/usr/bin/containerd-shim-runc-v2"]]
        // The known lineage, complete: in profile.
        #expect(enrich(try raw(nginx.merging(["ancestors": [sh, host]]) { $1 })).context.inProfile)
        // Empty ancestors, an unresolved ancestor, a truncated list, a chain that never reaches the host.
        for process in [nginx.merging(["ancestors": [] as [Any]]) { $1 },
                        nginx.merging(["ancestors": [["container": ["id": "c0"]], sh, host]]) { $1 },
                        nginx.merging(["ancestors": [sh, host], "truncated_ancestors": true]) { $1 },
                        nginx.merging(["ancestors": [sh]]) { $1 }] {
            let r = enrich(try raw(process))
            #expect(r.context.match == "no_ancestry" && !r.context.inProfile && r.suggestion == nil)
        }
        // The acting process without a path cannot be placed either.
        let pathless = enrich(try raw(["container": ["id": "c0"], "ancestors": [sh, host]]))
        #expect(pathless.context.match == "no_ancestry" && !pathless.context.inProfile)
        // A parent in another container does not make the process a root.
        let foreignParent = try raw(["executable": ["path": "/bin/sh"], "container": ["id": "c0"],
                                     "parent": ["executable": ["path": "/pause"], "container": ["id": "c9"]]])
        #expect(enrich(foreignParent).context.match == "no_ancestry")
    }

    @Test func hostileBindProtocolsAndDNSNamesNeitherCrashNorFold() throws {
        let weird = NodeIdentity.bind(family: "AF_INET", ip: "0.0.0.0", port: 80, protocol: "a:b/c")
        #expect(!weird.hasSuffix("/tcp") && weird.split(separator: "/").count == 2)
        let key = ProfileNodeKey(type: .network, lineage: ["/bin/sh"], activity: weird)
        _ = SuppressionSuggestion.query(profileKey: "x", activity: SignalActivity(type: .network, lineage: [SignalProcess(path: "/bin/sh")],
                                                                                  boundary: .container, activity: weird),
                                        matched: key, differentiateArgs: false)
        #expect(NodeIdentity.dns(name: "\u{212A}afka.svc", type: "A") != NodeIdentity.dns(name: "kafka.svc", type: "A"))
        #expect(NodeIdentity.dns(name: "KAFKA.svc", type: "a") == NodeIdentity.dns(name: "kafka.svc", type: "1"))
    }
}

/// Attack shape: a signal that brings its own `baseline` verdict is refused, not enriched beside it.
@Test func aSignalCannotBringItsOwnBaselineVerdict() {
    let forged = #"{"evt":{"name":"exec"},"process":{"executable":{"path":"/bin/sh"}},"baseline":{"suppressed":true,"in_profile":true}}"#
    #expect(throws: Rejection.self) { try SecuritySignal.parse(Array(forged.utf8)) }
    let escaped = #"{"evt":{"name":"exec"},"baselin\u0065":{"suppressed":true}}"#
    #expect(throws: Rejection.self) { try SecuritySignal.parse(Array(escaped.utf8)) }
}
