/// The activity a signal reports, in the profile's vocabulary (event type, lineage, activity).
public struct SignalActivity: Sendable, Hashable {
    public var type: EventType
    /// Executable paths from the workload's first process down to the signal's process,
    /// normalised like dumps (runtime binaries dropped, same-binary ancestors collapsed).
    public var lineage: [String]
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
        case "bind", "connect", "accept": return .network
        default: return nil
        }
    }

    public init?(signal: SecuritySignal) {
        guard let type = Self.eventType(of: signal.eventName), let path = signal.processPath, !path.isEmpty else { return nil }
        var chain = signal.ancestorPaths.reversed() + [path]
        chain.removeAll { DumpNormalizer.runtimeBinaries.contains($0.split(separator: "/").last.map(String.init) ?? $0) }
        var lineage: [String] = []
        for p in chain where lineage.last != p { lineage.append(p) }
        if MultiCallBinaries.isMultiCall(path), let argv0 = signal.argv0, !lineage.isEmpty {
            lineage[lineage.count - 1] += "[\(argv0)]"
        }
        self.type = type
        self.lineage = lineage
        switch type {
        case .exec:
            activity = nil
        case .file:
            guard let file = signal.filePath else { return nil }
            activity = PathNormalizer().normalize(file, pid: signal.pid)
        case .dns:
            guard let name = signal.dnsName else { return nil }
            activity = name.lowercased() + " " + (signal.dnsType ?? "A")
        case .network:
            guard let port = signal.bindPort else { return nil }
            activity = "\(signal.bindFamily ?? "AF_INET") \(signal.bindIP ?? "0.0.0.0"):\(port)/tcp"
        case .syscall, .capability:
            return nil
        }
    }

    /// The node key this activity would have in a profile.
    public var key: ProfileNodeKey {
        let l = lineage.joined(separator: ProfileNodeKey.lineageSeparator)
        return ProfileNodeKey(type: type, value: activity.map { l + " | " + $0 } ?? l)
    }
}
