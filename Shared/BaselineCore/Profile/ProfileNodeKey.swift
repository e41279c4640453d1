/// The identity of a node in a profile version: its event type plus a canonical string built from
/// the process lineage and the activity (domain identity rules). A flat key makes matching a
/// dictionary lookup whose cost does not grow with the profile.
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

    /// Every node key a normalised dump contains, each once.
    public static func keys(of dump: ActivityDump) -> Set<ProfileNodeKey> {
        var keys = Set<ProfileNodeKey>()
        func walk(_ nodes: [ProcessNode], _ parent: [String]) {
            for p in nodes {
                var id = p.path
                if MultiCallBinaries.isMultiCall(p.path), let a = p.argv0 { id += "[\(a)]" }
                if dump.differentiateArgs && !p.args.isEmpty { id += " " + p.args.joined(separator: " ") }
                let lineage = parent + [id]
                keys.insert(.process(lineage: lineage))
                for f in p.files { keys.insert(.file(lineage: lineage, path: f.path)) }
                for d in p.dns { keys.insert(.dns(lineage: lineage, name: d.name, type: d.type)) }
                for b in p.binds { keys.insert(.bind(lineage: lineage, b)) }
                walk(p.children, lineage)
            }
        }
        walk(dump.processes, [])
        return keys
    }
}
