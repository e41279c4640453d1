/// The activity a signal reports, in the profile's vocabulary: event type, the process lineage from
/// the workload's first process down to the acting process, and the activity part of the node key.
/// Built with the same `NodeIdentity` functions as the nodes of dumps.
public struct SignalActivity: Sendable, Hashable {
    /// How the top of the lineage (the workload's first process) was found.
    public enum Boundary: String, Sendable, Hashable {
        /// Ancestors carry their container: those outside the signal's container were dropped.
        case container
        /// No per-ancestor container information: known runtime binaries and everything above
        /// them were dropped.
        case runtime
        /// No container information and no runtime binary in the chain: the whole chain is used.
        case unbounded
        /// The signal carries no usable ancestry: it cannot be placed in the tree, so it never matches.
        case none
    }

    public var type: EventType
    /// The lineage, top (workload root) first, normalised like dumps (paths reduced, same-program
    /// ancestors collapsed). Empty when `boundary == .none`.
    public var lineage: [SignalProcess]
    public var boundary: Boundary
    /// The activity part of the node key (file path, `name TYPE`, bind), nil for exec.
    public var activity: String?

    /// Maps `evt.name` to an event type; nil for events profiles do not model.
    public static func eventType(of name: String) -> EventType? {
        switch name.lowercased() {
        case "exec", "fork": return .exec
        case "open", "chmod", "chown", "unlink", "rename", "mkdir", "rmdir", "utimes", "link", "setxattr", "removexattr",
             "splice", "mmap", "mprotect", "load_module", "chdir":
            return .file
        case "dns": return .dns
        case "bind": return .network
        default: return nil
        }
    }

    public init(type: EventType, lineage: [SignalProcess], boundary: Boundary, activity: String?) {
        self.type = type
        self.lineage = lineage
        self.boundary = boundary
        self.activity = activity
    }

    /// Nil when the event or its fields are not modelled by profiles.
    public init?(signal: SecuritySignal) {
        guard let type = Self.eventType(of: signal.eventName), let process = signal.process, !process.path.isEmpty else { return nil }
        let paths = PathNormalizer()
        switch type {
        case .exec:
            activity = nil
        case .file:
            guard let file = signal.filePath, !file.isEmpty else { return nil }
            activity = paths.normalize(file, pid: signal.pid)
        case .dns:
            guard let name = signal.dnsName, !name.isEmpty else { return nil }
            activity = NodeIdentity.dns(name: name, type: signal.dnsType ?? "A")
        case .network:
            guard let port = signal.bindPort else { return nil }
            activity = NodeIdentity.bind(family: signal.bindFamily ?? "AF_INET", ip: signal.bindIP ?? "0.0.0.0", port: port,
                                         protocol: signal.bindProtocol ?? "tcp")
        case .syscall, .capability:
            return nil
        }
        self.type = type
        (lineage, boundary) = Self.lineage(of: signal, process: process)
        lineage = lineage.map { p in
            var p = p
            p.path = paths.normalize(p.path, pid: p.pid)
            return p
        }
        lineage = Self.collapsed(lineage)
    }

    /// The workload's part of the chain `ancestors (top first) + process`.
    static func lineage(of signal: SecuritySignal, process: SignalProcess) -> ([SignalProcess], Boundary) {
        switch signal.ancestry {
        case .none:
            return ([], .none)
        case .parentOnly:
            // One known level: usable only when the parent is visibly outside the workload (another
            // container, or a container runtime), so the process is its root. A parent without
            // container information may be a host process or an agent that does not say: unknown.
            guard let parent = signal.ancestors.first else { return ([], .none) }
            if let container = signal.containerID, let parentContainer = parent.containerID, parentContainer != container {
                return ([process], .container)
            }
            if parent.containerID == nil && ContainerRuntimes.isRuntime(parent.path) { return ([process], .runtime) }
            return ([], .none)
        case .ancestors:
            break
        }
        let chain = signal.ancestors.reversed() + [process]
        if let container = signal.containerID, signal.ancestors.contains(where: { $0.containerID != nil }) {
            // The run of processes, from the acting one upwards, that share the signal's container.
            var inside: [SignalProcess] = []
            for p in chain.reversed() {
                guard p.containerID == container || (p == process && p.containerID == nil) else { break }
                inside.append(p)
            }
            return (inside.reversed(), .container)
        }
        // No per-ancestor container information: the workload starts below the topmost run of
        // runtime binaries (a binary inside the workload named `runc` must not reset the lineage).
        if let top = chain.dropLast().firstIndex(where: { ContainerRuntimes.isRuntime($0.path) }) {
            var end = top
            while end + 1 < chain.count - 1, ContainerRuntimes.isRuntime(chain[end + 1].path) { end += 1 }
            return (Array(chain[(end + 1)...]), .runtime)
        }
        return (Array(chain), .unbounded)
    }

    /// A process running the same program as its parent adds no lineage (as in dumps).
    static func collapsed(_ chain: [SignalProcess]) -> [SignalProcess] {
        var out: [SignalProcess] = []
        for p in chain {
            if let last = out.last, NodeIdentity.sameProgram((last.path, last.argv0), (p.path, p.argv0)) { continue }
            out.append(p)
        }
        return out
    }

    /// Lineage identities as they appear in node keys.
    public func lineageIdentities(differentiateArgs: Bool) -> [String] {
        lineage.map { NodeIdentity.process(path: $0.path, argv0: $0.argv0, args: $0.args, differentiateArgs: differentiateArgs) }
    }

    /// The node key this activity would have in a profile; nil without a usable lineage.
    public func key(differentiateArgs: Bool = false) -> ProfileNodeKey? {
        guard boundary != .none, !lineage.isEmpty else { return nil }
        return ProfileNodeKey(type: type, lineage: lineageIdentities(differentiateArgs: differentiateArgs), activity: activity)
    }

    /// The acting process.
    public var process: SignalProcess? { lineage.last }
}
