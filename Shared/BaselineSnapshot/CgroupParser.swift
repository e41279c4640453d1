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
    /// The systemd unit (`nginx.service`, `session-3.scope`) when not in a container.
    public var systemdUnit: String?

    public init(path: String, container: ContainerRef? = nil, systemdUnit: String? = nil) {
        self.path = path
        self.container = container
        self.systemdUnit = systemdUnit
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
/// The innermost component holding an id wins (a nested cgroup inside a container keeps its id).
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
        var container: ContainerRef?
        for p in [path] + all where container == nil { container = containerID(inPath: p) }
        let unit = container == nil ? systemdUnit(inPath: [unified, systemd].compactMap { $0 }.first { $0 != "/" } ?? path) : nil
        return CgroupMembership(path: path, container: container, systemdUnit: unit)
    }

    /// The innermost container id of a cgroup path, with the runtime it names.
    public static func containerID(inPath path: String) -> ContainerRef? {
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated().reversed() {
            var name = Substring(component)
            if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
            if isID(name) { return ContainerRef(id: String(name), runtime: runtime(before: components[..<index])) }
            for (prefix, runtime) in prefixes where name.hasPrefix(prefix) {
                let id = name.dropFirst(prefix.count)
                if isID(id) { return ContainerRef(id: String(id), runtime: runtime) }
            }
        }
        return nil
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

    /// The innermost systemd unit (`.service`, else `.scope`) of a path.
    public static func systemdUnit(inPath path: String) -> String? {
        let components = path.split(separator: "/")
        if let service = components.last(where: { $0.hasSuffix(".service") && $0.count > ".service".count }) {
            return String(service)
        }
        return components.last(where: { $0.hasSuffix(".scope") && $0.count > ".scope".count }).map(String.init)
    }

    /// 64 lowercase hex digits: the ids docker, containerd, cri-o and podman give containers.
    static func isID(_ s: Substring) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
