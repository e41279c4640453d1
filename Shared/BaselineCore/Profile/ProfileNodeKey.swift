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

    // By bytes, not by Unicode equivalence: a look-alike path is another node (ExactString.swift).
    public static func == (a: ProfileNodeKey, b: ProfileNodeKey) -> Bool { a.type == b.type && a.value.bytesEqual(b.value) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        value.hashBytes(into: &hasher)
    }

    public static let lineageSeparator = " > "
    public static let activitySeparator = " | "

    /// `lineage > … > process | activity`. Lineage elements come from `NodeIdentity.process`, which
    /// escapes the separators, so a crafted path cannot forge another node's lineage.
    public init(type: EventType, lineage: [String], activity: String?) {
        let l = lineage.joined(separator: Self.lineageSeparator)
        self.init(type: type, value: activity.map { l + Self.activitySeparator + $0 } ?? l)
    }

    public static func process(lineage: [String]) -> ProfileNodeKey {
        .init(type: .exec, lineage: lineage, activity: nil)
    }

    public static func file(lineage: [String], path: String) -> ProfileNodeKey {
        .init(type: .file, lineage: lineage, activity: path)
    }

    public static func dns(lineage: [String], name: String, type: String) -> ProfileNodeKey {
        .init(type: .dns, lineage: lineage, activity: NodeIdentity.dns(name: name, type: type))
    }

    public static func bind(lineage: [String], _ b: SocketBind) -> ProfileNodeKey {
        .init(type: .network, lineage: lineage, activity: NodeIdentity.bind(family: b.family, ip: b.ip, port: b.port, protocol: b.protocol))
    }

    public static func syscall(lineage: [String], _ name: String) -> ProfileNodeKey {
        .init(type: .syscall, lineage: lineage, activity: name.lowercased())
    }

    public static func capability(lineage: [String], _ name: String) -> ProfileNodeKey {
        .init(type: .capability, lineage: lineage, activity: NodeIdentity.capability(name))
    }

    /// Every node of a (normalised) dump with its open flags and modes (files only; OR-ed when a path repeats).
    public static func nodes(of dump: ActivityDump) -> [ProfileNodeKey: FileOpenBits] {
        var keys: [ProfileNodeKey: FileOpenBits] = [:]
        func walk(_ nodes: [ProcessNode], _ parent: [String]) {
            for p in nodes {
                let lineage = parent + [NodeIdentity.process(path: p.path, argv0: p.argv0, args: p.args,
                                                             differentiateArgs: dump.differentiateArgs)]
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
