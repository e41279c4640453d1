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

    /// The open flags the signal reports (file events), nil when it does not say.
    public var openFlags: UInt32?

    /// Maps `evt.name` to an event type; nil for events profiles do not model. Profiles learn
    /// execs, opens, DNS requests and binds only: a `chmod`, `unlink`, `rename`, `mmap` or
    /// `load_module` of a known path is another operation, never "known behaviour".
    public static func eventType(of name: String) -> EventType? {
        switch name.lowercased() {
        case "exec": return .exec
        case "open": return .file
        case "dns": return .dns
        case "bind": return .network
        default: return nil
        }
    }

    public init(type: EventType, lineage: [SignalProcess], boundary: Boundary, activity: String?, openFlags: UInt32? = nil) {
        self.openFlags = openFlags
        self.type = type
        self.lineage = lineage
        self.boundary = boundary
        self.activity = activity
    }

    /// Nil when the event or its fields are not modelled by profiles.
    public init?(signal: SecuritySignal) {
        guard let type = Self.eventType(of: signal.eventName) else { return nil }
        let paths = PathNormalizer()
        openFlags = type == .file ? signal.fileFlags : nil
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
        // Without the acting process's path the activity cannot be placed: never matched.
        guard let process = signal.process, !process.path.isEmpty else {
            (lineage, boundary) = ([], .none)
            return
        }
        (lineage, boundary) = Self.lineage(of: signal, process: process)
        lineage = lineage.map { p in
            var p = p
            p.path = paths.normalize(p.path, pid: p.pid)
            return p
        }
    }

    /// The workload's part of the chain `ancestors (top first) + process`. Fails closed: when the
    /// top of the workload cannot be seen, the signal has no usable ancestry.
    static func lineage(of signal: SecuritySignal, process: SignalProcess) -> ([SignalProcess], Boundary) {
        // An ancestor the agent could not resolve (no path) or a truncated list breaks the chain.
        guard !signal.ancestorsIncomplete else { return ([], .none) }
        switch signal.ancestry {
        case .none:
            return ([], .none)
        case .parentOnly:
            // One known level: usable only when the parent is visibly a host process (no container
            // while the signal has one), so the process is the workload's root.
            guard let parent = signal.ancestors.first, signal.ancestors.count == 1, let container = signal.containerID,
                  parent.containerID == nil, process.containerID == nil || process.containerID == container else { return ([], .none) }
            // Only agents that put containers on processes make "no container" mean "host".
            return process.containerID != nil ? ([process], .container) : ([], .none)
        case .ancestors:
            break
        }
        guard !signal.ancestors.isEmpty else { return ([], .none) }
        let chain = signal.ancestors.reversed() + [process]
        if let container = signal.containerID, signal.ancestors.contains(where: { $0.containerID != nil }) {
            // The run of processes, from the acting one upwards, that share the signal's container;
            // it must end at a visible host process, else the workload's top is not in sight.
            var inside: [SignalProcess] = []
            var sawHost = false
            for p in chain.reversed() {
                if p.containerID == container || (p == process && p.containerID == nil) {
                    inside.append(p)
                } else {
                    sawHost = p.containerID == nil
                    break
                }
            }
            return sawHost && !inside.isEmpty ? (inside.reversed(), .container) : ([], .none)
        }
        // No per-ancestor container information: the workload starts below the topmost run of
        // runtime binaries (a binary inside the workload named `runc` must not reset the lineage).
        if let top = chain.dropLast().firstIndex(where: { ContainerRuntimes.isRuntime($0.path) }) {
            var end = top
            while end + 1 < chain.count - 1, ContainerRuntimes.isRuntime(chain[end + 1].path) { end += 1 }
            return (Array(chain[(end + 1)...]), .runtime)
        }
        // A containerised signal whose boundary cannot be found is unusable; a host workload (no
        // container at all) is the whole chain.
        return signal.containerID == nil ? (Array(chain), .unbounded) : ([], .none)
    }

    /// Lineage identities as they appear in node keys: a process with the same identity as its
    /// parent (a forked worker; with `differentiate_args`, also the same arguments) adds no
    /// lineage, as in dumps.
    public func lineageIdentities(differentiateArgs: Bool) -> [String] {
        var out: [String] = []
        for p in lineage {
            let id = NodeIdentity.process(path: p.path, argv0: p.argv0, args: p.args, differentiateArgs: differentiateArgs)
            // By bytes: a look-alike child ("\u{212A}iosk" under "Kiosk") is another program, not a fork of its parent.
            if !(out.last?.bytesEqual(id) ?? false) { out.append(id) }
        }
        return out
    }

    /// The node key this activity would have in a profile; nil without a usable lineage.
    public func key(differentiateArgs: Bool = false) -> ProfileNodeKey? {
        guard boundary != .none, !lineage.isEmpty else { return nil }
        return ProfileNodeKey(type: type, lineage: lineageIdentities(differentiateArgs: differentiateArgs), activity: activity)
    }

    /// The acting process.
    public var process: SignalProcess? { lineage.last }
}
