/// The identity of a node in a profile version: its event type plus a canonical string built from
/// the process lineage and the activity (domain identity rules). A flat key makes matching a
/// dictionary lookup whose cost does not grow with the profile.
/// Open flags and modes of a file node, OR-ed over every open seen.
public struct FileOpenBits: Hashable, Sendable, Codable {
    public var flags: UInt32 = 0
    public var mode: UInt32 = 0

    public init(flags: UInt32 = 0, mode: UInt32 = 0) {
        self.flags = flags
        self.mode = mode
    }

    mutating func formUnion(_ f: FileAccess) {
        flags |= f.flags
        mode |= f.mode
    }

    mutating func formUnion(_ o: FileOpenBits) {
        flags |= o.flags
        mode |= o.mode
    }
}

public struct ProfileNodeKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var type: EventType
    public var value: String

    public init(type: EventType, value: String) {
        self.type = type
        self.value = value
    }

    public var description: String { "\(type.rawValue):\(value)" }

    public static let lineageSeparator = " > "

    public static func process(lineage: [String]) -> ProfileNodeKey {
        .init(type: .exec, value: lineage.joined(separator: lineageSeparator))
    }

    public static func file(lineage: [String], path: String) -> ProfileNodeKey {
        .init(type: .file, value: lineage.joined(separator: lineageSeparator) + " | " + path)
    }

    public static func dns(lineage: [String], name: String, type: String) -> ProfileNodeKey {
        .init(type: .dns, value: lineage.joined(separator: lineageSeparator) + " | " + name.lowercased() + " " + type)
    }

    public static func bind(lineage: [String], _ b: SocketBind) -> ProfileNodeKey {
        .init(type: .network, value: lineage.joined(separator: lineageSeparator) + " | \(b.family) \(b.ip):\(b.port)/\(b.protocol)")
    }

    public static func syscall(lineage: [String], _ name: String) -> ProfileNodeKey {
        .init(type: .syscall, value: lineage.joined(separator: lineageSeparator) + " | " + name)
    }

    public static func capability(lineage: [String], _ name: String) -> ProfileNodeKey {
        .init(type: .capability, value: lineage.joined(separator: lineageSeparator) + " | " + name.uppercased())
    }

    /// Every node of a dump with its open flags and modes (files only; OR-ed when a path repeats).
    public static func nodes(of dump: ActivityDump) -> [ProfileNodeKey: FileOpenBits] {
        var keys: [ProfileNodeKey: FileOpenBits] = [:]
        func walk(_ nodes: [ProcessNode], _ parent: [String]) {
            for p in nodes {
                var id = p.path
                if MultiCallBinaries.isMultiCall(p.path), let a = p.argv0 { id += "[\(a)]" }
                if dump.differentiateArgs && !p.args.isEmpty { id += " " + p.args.joined(separator: " ") }
                let lineage = parent + [id]
                keys[.process(lineage: lineage)] = FileOpenBits()
                for f in p.files { keys[.file(lineage: lineage, path: f.path), default: FileOpenBits()].formUnion(f) }
                for d in p.dns { keys[.dns(lineage: lineage, name: d.name, type: d.type)] = FileOpenBits() }
                for b in p.binds { keys[.bind(lineage: lineage, b)] = FileOpenBits() }
                for s in p.syscalls { keys[.syscall(lineage: lineage, s)] = FileOpenBits() }
                for c in p.capabilities { keys[.capability(lineage: lineage, c)] = FileOpenBits() }
                walk(p.children, lineage)
            }
        }
        walk(dump.processes, [])
        return keys
    }
}
