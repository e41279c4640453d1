import BaselineCore
import BaselinePostgres
import Foundation

/// A version in the JSON shape of Datadog's `SecurityProfile` message
/// (`proto/cws/dumpsv1/activity_dump.proto` in DataDog/agent-payload: status, version, metadata,
/// tags, syscalls, tree of `ProcessActivityNode`), with the protobuf JSON mapping's snake_case
/// names. Statistics Datadog has no field for (instances, commonality) are left out.
public enum DatadogProfileExport {
    public struct SecurityProfile: Encodable, Sendable {
        /// 1 once every event type of the version is stable, else 0.
        var status: Int
        var version: String
        var metadata: Metadata
        var tags: [String]
        var syscalls: [Int] = []
        var tree: [ProcessNode]
    }

    struct Metadata: Encodable, Sendable {
        var name: String
        var differentiateArgs: Bool
        var start: String?
        var end: String?
    }

    struct FileInfo: Encodable, Sendable {
        var path: String
        var basename: String
    }

    struct ProcessInfo: Encodable, Sendable {
        var file: FileInfo
        var argv0: String
        var args: [String]
    }

    final class ProcessNode: Encodable, @unchecked Sendable {
        var process: ProcessInfo
        var generationType = "RUNTIME"
        var children: [ProcessNode] = []
        var files: [FileNode] = []
        var dnsNames: [DNSNode] = []
        var sockets: [SocketNode] = []
        /// Top-level file components by name (not encoded): each insert is O(path depth).
        var fileIndex: [String: FileNode] = [:]

        init(process: ProcessInfo) { self.process = process }

        enum CodingKeys: String, CodingKey { case process, generationType, children, files, dnsNames, sockets }
    }

    final class FileNode: Encodable, @unchecked Sendable {
        var name: String
        var isPattern: Bool
        var file: FileInfo?
        var open: OpenNode?
        var generationType = "RUNTIME"
        var firstSeen: String?
        var children: [FileNode] = []
        var childIndex: [String: FileNode] = [:]

        init(name: String, isPattern: Bool) {
            self.name = name
            self.isPattern = isPattern
        }

        enum CodingKeys: String, CodingKey { case name, isPattern, file, open, generationType, firstSeen, children }
    }

    struct OpenNode: Encodable, Sendable {
        var flags: Int64
        var mode: Int64
    }

    struct DNSNode: Encodable, Sendable {
        var requests: [DNSInfo]
    }

    struct DNSInfo: Encodable, Sendable {
        var name: String
        var type: Int
    }

    struct SocketNode: Encodable, Sendable {
        var family: String
        var bind: [BindNode]
    }

    struct BindNode: Encodable, Sendable {
        var port: Int
        var ip: String
    }

    public static func securityProfile(_ doc: ProfileDocument) -> SecurityProfile {
        var byLineage: [String: ProcessNode] = [:]
        var roots: [ProcessNode] = []
        // Parents before children: a lineage is longer than its parent's.
        let execs = doc.nodes.filter { $0.eventType == EventType.exec.rawValue }
            .sorted { ($0.key.components(separatedBy: ProfileNodeKey.lineageSeparator).count, $0.key) <
                      ($1.key.components(separatedBy: ProfileNodeKey.lineageSeparator).count, $1.key) }
        for node in execs {
            let lineage = node.key.components(separatedBy: ProfileNodeKey.lineageSeparator)
            let process = ProcessNode(process: processInfo(lineage.last ?? node.key))
            byLineage[node.key] = process
            if lineage.count > 1, let parent = byLineage[lineage.dropLast().joined(separator: ProfileNodeKey.lineageSeparator)] {
                parent.children.append(process)
            } else {
                roots.append(process)
            }
        }
        for node in doc.nodes where node.eventType != EventType.exec.rawValue {
            guard let type = EventType(rawValue: node.eventType) else { continue }
            let parts = ProfileNodeKey(type: type, value: node.key).parts
            guard let owner = byLineage[parts.lineage.joined(separator: ProfileNodeKey.lineageSeparator)], let activity = parts.activity else { continue }
            switch type {
            case .file: insertFile(activity, node: node, into: owner)
            case .dns:
                let (name, qtype) = split(activity)
                owner.dnsNames.append(DNSNode(requests: [DNSInfo(name: unescape(name), type: DNSTypes.number(qtype) ?? 1)]))
            case .network:
                // `AF_INET 0.0.0.0:80/tcp`
                let (family, rest) = split(activity)
                let address = rest.split(separator: "/").first.map(String.init) ?? rest
                if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
                    owner.sockets.append(SocketNode(family: family, bind: [BindNode(port: port, ip: unescape(String(address[..<colon])))]))
                }
            default: continue
            }
        }
        let allStable = !doc.eventTypes.isEmpty && doc.eventTypes.allSatisfy { $0.state == LifecycleState.stable.rawValue }
        return SecurityProfile(status: allStable ? 1 : 0, version: doc.imageTag,
                               metadata: Metadata(name: doc.imageName, differentiateArgs: doc.differentiateArgs),
                               tags: ["image_name:\(doc.imageName)", "image_tag:\(doc.imageTag)"], tree: roots)
    }

    /// `path[applet] arg arg` (each part percent-escaped) back into the process it names.
    static func processInfo(_ element: String) -> ProcessInfo {
        var rest = Substring(element)
        let pathEnd = rest.firstIndex(where: { $0 == "[" || $0 == " " }) ?? rest.endIndex
        let path = unescape(String(rest[..<pathEnd]))
        rest = rest[pathEnd...]
        var applet: String?
        if rest.first == "[", let close = rest.firstIndex(of: "]") {
            applet = unescape(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        let args = rest.split(separator: " ").map { $0 == "\"\"" ? "" : unescape(String($0)) }
        let basename = path.split(separator: "/").last.map(String.init) ?? path
        return ProcessInfo(file: FileInfo(path: path, basename: basename), argv0: applet ?? basename, args: args)
    }

    static func insertFile(_ path: String, node: ProfileDocument.Node, into owner: ProcessNode) {
        let components = unescape(path).split(separator: "/").map(String.init)
        guard !components.isEmpty else { return }
        var parent: FileNode?
        for (i, name) in components.enumerated() {
            let last = i == components.count - 1
            let existing = parent.map { $0.childIndex[name] } ?? owner.fileIndex[name]
            let current = existing ?? FileNode(name: name, isPattern: last && node.isPattern)
            if existing == nil {
                if let parent {
                    parent.children.append(current)
                    parent.childIndex[name] = current
                } else {
                    owner.files.append(current)
                    owner.fileIndex[name] = current
                }
            }
            if last {
                current.file = FileInfo(path: unescape(path), basename: name)
                current.open = OpenNode(flags: node.openFlags, mode: node.openMode)
                current.isPattern = node.isPattern
                current.firstSeen = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(max(0, node.firstSeenNs)) / 1e9))
            }
            parent = current
        }
    }

    static func split(_ s: String) -> (String, String) {
        guard let space = s.firstIndex(of: " ") else { return (s, "") }
        return (String(s[..<space]), String(s[s.index(after: space)...]))
    }

    static func unescape(_ s: String) -> String { s.removingPercentEncoding ?? s }
}
