/// The container runtime a cgroup path names. Informational: grouping uses the container id.
public enum ContainerRuntimeKind: String, Hashable, Sendable, Codable {
    case docker, containerd, crio = "cri-o", podman, unknown
}

/// A container a process runs in, as its cgroup says: the runtime's 64-hex container id.
public struct ContainerRef: Hashable, Sendable {
    public var id: String
    public var runtime: ContainerRuntimeKind

    public init(id: String, runtime: ContainerRuntimeKind) {
        self.id = id
        self.runtime = runtime
    }

    /// The 12-character form `docker ps` shows.
    public var shortID: String { String(id.prefix(12)) }
}

/// Where a process sits in the cgroup hierarchy, from `/proc/<pid>/cgroup`.
public struct CgroupMembership: Hashable, Sendable {
    /// One path for matching and display: the unified (v2) path, else the `name=systemd` path, else
    /// the first other v1 path that is not the root.
    public var path: String
    public var container: ContainerRef?
    /// The path up to and including the component naming the container (`/system.slice/docker-<id>.scope`):
    /// one container has one, so an id claimed under two prefixes is a forgery (or a runtime mix-up).
    public var containerPath: String?
    /// The systemd unit (`nginx.service`, `session-3.scope`) when not in a container.
    public var systemdUnit: String?
    /// The path up to and including that unit: what tells `/system.slice/nginx.service` from a
    /// user's `…/user@1000.service/app.slice/nginx.service`.
    public var unitPath: String?
    /// The container id or unit sits below a systemd user manager (`user@<uid>.service`): any user
    /// can create such cgroups and name them as they like (`systemd-run --user --unit=…`).
    public var underUserManager: Bool
    /// The hierarchies name different containers (a forged v1 hierarchy): no container is trusted.
    public var conflictingContainers: Bool

    public init(path: String, container: ContainerRef? = nil, containerPath: String? = nil, systemdUnit: String? = nil,
                unitPath: String? = nil, underUserManager: Bool = false, conflictingContainers: Bool = false) {
        self.path = path
        self.container = container
        self.containerPath = containerPath ?? container.map { _ in path }
        self.systemdUnit = systemdUnit
        self.unitPath = unitPath ?? systemdUnit.map { _ in path }
        self.underUserManager = underUserManager
        self.conflictingContainers = conflictingContainers
    }
}

/// Parses `/proc/<pid>/cgroup` (cgroup v1, v2 and hybrid). Each line is
/// `hierarchy-id:controllers:path`; v2 has the single line `0::path`. Container ids are found in
/// the path components the runtimes create:
///
/// | runtime | cgroupfs driver | systemd driver |
/// |---|---|---|
/// | docker | `/docker/<id>` | `/system.slice/docker-<id>.scope` |
/// | containerd (Kubernetes) | `/kubepods/<qos>/pod<uid>/<id>` | `…/kubepods-<qos>-pod<uid>.slice/cri-containerd-<id>.scope` |
/// | cri-o | `/kubepods/<qos>/pod<uid>/crio-<id>` | `…-pod<uid>.slice/crio-<id>.scope` |
/// | podman | `/libpod_parent/libpod-<id>` | `/machine.slice/libpod-<id>.scope` (rootless: under `user@<uid>.service`) |
///
/// The monitors (`crio-conmon-<id>.scope`, `libpod-conmon-<id>.scope`) are not the container.
/// The *outermost* component holding an id wins: a process inside a container that may write its
/// cgroupfs can create nested cgroups named after any id, but only below its own container's.
public enum CgroupParser {
    static let prefixes: [(String, ContainerRuntimeKind)] = [
        ("docker-", .docker), ("cri-containerd-", .containerd), ("containerd-", .containerd), ("nerdctl-", .containerd),
        ("crio-", .crio), ("libpod-", .podman),
    ]

    public static func parse(_ text: String) -> CgroupMembership {
        var unified: String?
        var systemd: String?
        var others: [String] = []
        var all: [String] = []
        for line in text.split(separator: "\n") {
            // The path is everything after the second colon: it may itself contain colons.
            guard let first = line.firstIndex(of: ":") else { continue }
            let rest = line[line.index(after: first)...]
            guard let second = rest.firstIndex(of: ":") else { continue }
            let id = line[..<first]
            let controllers = rest[..<second]
            let path = String(rest[rest.index(after: second)...])
            guard path.hasPrefix("/"), UInt32(id) != nil else { continue }
            all.append(path)
            if id == "0" && controllers.isEmpty {
                unified = path
            } else if controllers == "name=systemd" {
                systemd = path
            } else if path != "/" {
                others.append(path)
            }
        }
        let candidates = [unified, systemd, others.first].compactMap { $0 }
        let path = candidates.first { $0 != "/" } ?? unified ?? systemd ?? "/"
        // Every hierarchy of one process names the same container (or none); two different ids
        // mean one hierarchy was written by someone else, and neither is trusted.
        var found: [(ref: ContainerRef, prefix: String, userManager: Bool)] = []
        for p in [path] + all { if let f = container(inPath: p) { found.append(f) } }
        if Set(found.map(\.ref.id)).count > 1 {
            return CgroupMembership(path: path, underUserManager: found.contains { $0.userManager }, conflictingContainers: true)
        }
        if let first = found.first {
            return CgroupMembership(path: path, container: first.ref, containerPath: first.prefix, underUserManager: first.userManager)
        }
        let unitSource = [unified, systemd].compactMap { $0 }.first { $0 != "/" } ?? path
        guard let unit = systemdUnit(inPath: unitSource) else { return CgroupMembership(path: path) }
        return CgroupMembership(path: path, systemdUnit: unit.name, unitPath: unit.path, underUserManager: unit.userManager)
    }

    /// The outermost container id of a cgroup path, with the runtime it names.
    public static func containerID(inPath path: String) -> ContainerRef? {
        container(inPath: path)?.ref
    }

    /// The outermost container id of a path, the path up to it, and whether a user manager is above it.
    static func container(inPath path: String) -> (ref: ContainerRef, prefix: String, userManager: Bool)? {
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            var name = Substring(component)
            if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
            var ref: ContainerRef?
            if isID(name) {
                ref = ContainerRef(id: String(name), runtime: runtime(before: components[..<index]))
            } else {
                for (prefix, runtime) in prefixes where name.hasPrefix(prefix) {
                    let id = name.dropFirst(prefix.count)
                    if isID(id) {
                        ref = ContainerRef(id: String(id), runtime: runtime)
                        break
                    }
                }
            }
            if let ref {
                let above = components[..<index]
                return (ref, "/" + components[...index].joined(separator: "/"), above.contains(where: isUserManager))
            }
        }
        return nil
    }

    /// `user@1000.service`: a systemd user manager, below which the user names the cgroups.
    static func isUserManager(_ component: Substring) -> Bool {
        guard component.hasPrefix("user@"), component.hasSuffix(".service") else { return false }
        let uid = component.dropFirst("user@".count).dropLast(".service".count)
        return !uid.isEmpty && uid.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// A bare id's runtime from the components above it.
    static func runtime(before components: ArraySlice<Substring>) -> ContainerRuntimeKind {
        for c in components.reversed() {
            if c == "docker" || c.hasPrefix("docker.") { return .docker }
            if c == "libpod_parent" { return .podman }
            if c.hasPrefix("crio") { return .crio }
            if c.hasPrefix("containerd") || c == "default" || c == "k8s.io" { return .containerd }
        }
        return .unknown
    }

    /// The innermost systemd unit (`.service`, else `.scope`) of a path, the path up to it, and
    /// whether a user manager (`user@<uid>.service`) is above it.
    public static func systemdUnit(inPath path: String) -> (name: String, path: String, userManager: Bool)? {
        let components = path.split(separator: "/")
        let index = components.lastIndex { $0.hasSuffix(".service") && $0.count > ".service".count }
            ?? components.lastIndex { $0.hasSuffix(".scope") && $0.count > ".scope".count }
        guard let index else { return nil }
        return (String(components[index]), "/" + components[...index].joined(separator: "/"),
                components[..<index].contains(where: isUserManager))
    }

    /// 64 lowercase hex digits: the ids docker, containerd, cri-o and podman give containers.
    static func isID(_ s: Substring) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
