/// Which processes form the workloads of a snapshot.
public enum WorkloadSelector: Hashable, Sendable {
    /// Processes in containers, one workload per container id; ids may be narrowed to prefixes.
    case containers(idPrefixes: [String] = [])
    /// Host processes (not in a container), one workload per systemd unit (keyed by its cgroup
    /// path, so a user's `nginx.service` never joins the system's): the named ones (`nginx` means
    /// `nginx.service`), or every `.service` unit when none is named.
    case units(names: [String] = [])
    /// The processes whose executable path or cgroup path matches any pattern, with everything
    /// below them: one workload.
    case match([Glob])
    /// One process and everything below it: one workload.
    case pid(Int64)

    /// Matching executables needs them read for every process, not only for the workloads'.
    public var needsExecutables: Bool {
        if case .match = self { return true }
        return false
    }
}

/// How workloads get their image name and tag: the mapping file (first matching cgroup pattern),
/// else `--image`, else a default (the unit name without `.service`; the root's executable name
/// for `--match` and `--pid`; containers have none and are skipped). The tag: the mapping's, else
/// `--tag`, else `latest`.
public struct WorkloadNaming: Hashable, Sendable {
    public var image: String?
    public var tag: String?
    public var mapping: ImageMapping

    public init(image: String? = nil, tag: String? = nil, mapping: ImageMapping = ImageMapping()) {
        self.image = image
        self.tag = tag
        self.mapping = mapping
    }

    func name(cgroup: String, fallback: String?) -> ImageName? {
        let mapped = mapping.image(forCgroup: cgroup)
        guard let name = mapped?.name ?? image ?? fallback, !name.isEmpty else { return nil }
        return ImageName(name: name, tag: mapped?.tag ?? tag ?? "latest")
    }
}

/// The processes of one workload instance and what it is called.
public struct WorkloadGroup: Hashable, Sendable {
    /// How the members were chosen, which decides what an unreadable parent means.
    public enum Membership: Hashable, Sendable {
        /// By cgroup (a container, a unit): a member's parent that could not be read may have been
        /// a member too, so the member is left out rather than made a root.
        case cgroup
        /// A subtree below explicit roots: the roots' parents are outside the workload.
        case subtree
    }

    public var image: ImageName
    public var membership: Membership
    public var service: String?
    /// The container all of it runs in (the instance), if any.
    public var container: ContainerRef?
    /// The systemd unit it was grouped by.
    public var unit: String?
    /// The instance id when not a container (nil: host + service/image, Baseline's default).
    public var instance: String?
    public var members: Set<Int64>

    public init(image: ImageName, membership: Membership, service: String? = nil, container: ContainerRef? = nil,
                unit: String? = nil, instance: String? = nil, members: Set<Int64>) {
        self.image = image
        self.membership = membership
        self.service = service
        self.container = container
        self.unit = unit
        self.instance = instance
        self.members = members
    }
}

/// Splits a process table into workload groups.
public struct WorkloadGrouping: Sendable {
    public var selector: WorkloadSelector
    public var naming: WorkloadNaming
    /// Also containers and units below a systemd user manager (`user@<uid>.service`: rootless
    /// podman, user services). Off by default: any local user creates and names those cgroups.
    public var includeUserManagers: Bool

    public init(selector: WorkloadSelector, naming: WorkloadNaming = WorkloadNaming(), includeUserManagers: Bool = false) {
        self.selector = selector
        self.naming = naming
        self.includeUserManagers = includeUserManagers
    }

    public struct Result: Sendable {
        public var groups: [WorkloadGroup] = []
        /// Containers no name applied to (not dumped).
        public var unnamedContainers = 0
        /// Container ids claimed under two different cgroup paths (or two ids in one process's
        /// hierarchies): one of them is forged, so neither is dumped.
        public var ambiguousContainers = 0
        /// Processes whose container or unit sits below a user manager, left out without `--rootless`.
        public var userManagerProcesses = 0
        /// Matching processes (`--match`) in another mount namespace than the workload's.
        public var otherMountNamespaces = 0
        /// Why nothing was selected, when that is worth saying (`--pid 42` is not there).
        public var notes: [String] = []
    }

    public func groups(_ table: ProcessTable) -> Result {
        var result = Result()
        switch selector {
        case .containers(let prefixes):
            var byContainer: [String: (ref: ContainerRef, paths: Set<String>, members: Set<Int64>)] = [:]
            for p in table.processes.values {
                if p.cgroup.conflictingContainers {
                    result.ambiguousContainers += 1
                    continue
                }
                guard let c = p.cgroup.container else { continue }
                if !prefixes.isEmpty && !prefixes.contains(where: { c.id.hasPrefix($0.lowercased()) }) { continue }
                if p.cgroup.underUserManager && !includeUserManagers {
                    result.userManagerProcesses += 1
                    continue
                }
                // Grouped by id alone: the same id under another prefix (libpod- beside docker-,
                // or under a user manager) must not become a second dump with the same dump id.
                byContainer[c.id, default: (c, [], [])].paths.insert(p.cgroup.containerPath ?? p.cgroup.path)
                byContainer[c.id]!.members.insert(p.pid)
            }
            for (id, entry) in byContainer.sorted(by: { $0.key < $1.key }) {
                if entry.paths.count > 1 {
                    result.ambiguousContainers += 1
                    result.notes.append("container \(ContainerRef(id: id, runtime: entry.ref.runtime).shortID) not dumped: its id is claimed "
                                        + "under \(entry.paths.count) cgroup paths (\(entry.paths.sorted().joined(separator: ", ")))")
                    continue
                }
                let first = table.processes[entry.members.min()!]!
                guard let image = naming.name(cgroup: first.cgroup.path, fallback: nil) else {
                    result.unnamedContainers += 1
                    continue
                }
                result.groups.append(WorkloadGroup(image: image, membership: .cgroup, container: entry.ref, members: entry.members))
            }
        case .units(let names):
            let wanted = Set(names.map { $0.contains(".") ? $0 : $0 + ".service" })
            // Keyed by the unit's cgroup path: a user's `nginx.service` is another unit than the system's.
            var byUnit: [String: (name: String, userManager: Bool, members: Set<Int64>)] = [:]
            for p in table.processes.values where p.cgroup.container == nil && !p.cgroup.conflictingContainers {
                guard let unit = p.cgroup.systemdUnit, let path = p.cgroup.unitPath else { continue }
                if wanted.isEmpty ? !unit.hasSuffix(".service") : !wanted.contains(unit) { continue }
                if p.cgroup.underUserManager && !includeUserManagers {
                    result.userManagerProcesses += 1
                    continue
                }
                byUnit[path, default: (unit, p.cgroup.underUserManager, [])].members.insert(p.pid)
            }
            for (path, entry) in byUnit.sorted(by: { $0.key < $1.key }) {
                let first = table.processes[entry.members.min()!]!
                let unit = entry.name
                let fallback = unit.hasSuffix(".service") ? String(unit.dropLast(".service".count)) : unit
                guard let image = naming.name(cgroup: first.cgroup.path, fallback: fallback) else { continue }
                // A user's unit is its own instance (`user@1000.service/nginx.service`), never the system's.
                let service = entry.userManager ? Self.userUnitName(path) : unit
                result.groups.append(WorkloadGroup(image: image, membership: .cgroup, service: service, unit: unit, members: entry.members))
            }
            if result.groups.isEmpty && !wanted.isEmpty {
                result.notes.append("no host process runs in \(wanted.sorted().joined(separator: ", "))")
            }
        case .match(let patterns):
            var matched = table.processes.values.filter { p in
                patterns.contains { $0.matches(p.executable ?? "") || $0.matches(p.cgroup.path) }
            }.sorted(by: { $0.pid < $1.pid })
            // One workload sees one file system: a path names the same program only within one
            // mount namespace (another container, or `unshare -m` with a bind mount over
            // /usr/sbin/nginx, has its own). The host's (pid 1's) wins when it has a match.
            let reference = table.processes[1].flatMap { initProcess in
                matched.contains { $0.mountNamespace == initProcess.mountNamespace } ? initProcess.mountNamespace : nil
            } ?? matched.first?.mountNamespace
            let before = matched.count
            matched.removeAll { $0.mountNamespace != reference }
            result.otherMountNamespaces += before - matched.count
            if before > matched.count {
                result.notes.append("\(before - matched.count) matching process(es) in another mount namespace left out")
            }
            var members: Set<Int64> = []
            for p in matched where !members.contains(p.pid) {
                members.formUnion(table.subtree(of: p.pid))
            }
            guard let top = members.filter({ table.processes[$0].map { !members.contains($0.ppid) } ?? false }).min(),
                  let root = table.processes[top] else {
                result.notes.append("no process matches \(patterns.map(\.pattern).joined(separator: ", "))")
                break
            }
            if let image = naming.name(cgroup: root.cgroup.path, fallback: Self.basename(root.executable) ?? root.stat.comm) {
                result.groups.append(WorkloadGroup(image: image, membership: .subtree, container: Self.commonContainer(members, table),
                                                   members: members))
            }
        case .pid(let pid):
            guard let root = table.processes[pid] else {
                result.notes.append("process \(pid) is not there (exited, a kernel thread, or not readable)")
                break
            }
            let members = table.subtree(of: pid)
            if let image = naming.name(cgroup: root.cgroup.path, fallback: Self.basename(root.executable) ?? root.stat.comm) {
                result.groups.append(WorkloadGroup(image: image, membership: .subtree, container: Self.commonContainer(members, table),
                                                   members: members))
            }
        }
        return result
    }

    /// The container every member runs in, when they all run in the same one.
    static func commonContainer(_ members: Set<Int64>, _ table: ProcessTable) -> ContainerRef? {
        let containers = Set(members.map { table.processes[$0]?.cgroup.container })
        return containers.count == 1 ? containers.first! : nil
    }

    /// `…/user@1000.service/app.slice/nginx.service` → `user@1000.service/nginx.service`.
    static func userUnitName(_ path: String) -> String {
        let components = path.split(separator: "/")
        let manager = components.last(where: CgroupParser.isUserManager).map(String.init) ?? "user"
        return manager + "/" + (components.last.map(String.init) ?? "")
    }

    static func basename(_ path: String?) -> String? {
        guard let path, let last = path.split(separator: "/").last else { return nil }
        return String(last)
    }
}
