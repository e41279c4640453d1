import BaselineCore

/// A snapshot as Datadog's `SecDump` in the protobuf JSON mapping (the shape `DatadogDump` reads,
/// field names of DataDog/agent-payload `activity_dump.proto`): 64-bit integers as strings, enums
/// by name, every process and file node `generation_type: SNAPSHOT`, files as a tree of path
/// components whose leaves carry the full path and the open flags.
struct DatadogSnapshotDocument: Encodable {
    static let generationType = "SNAPSHOT"
    /// IPPROTO_TCP, IPPROTO_UDP.
    static let protocolNumbers = ["tcp": 6, "udp": 17]

    let dump: SnapshotDump

    init(_ dump: SnapshotDump) {
        self.dump = dump
    }

    enum Keys: String, CodingKey { case host, service, source, metadata, tags, tree }
    enum MetadataKeys: String, CodingKey {
        case name, containerID = "container_id", start, end, differentiateArgs = "differentiate_args"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let w = dump.workload
        try c.encodeIfPresent(w.host, forKey: .host)
        try c.encodeIfPresent(w.service, forKey: .service)
        try c.encode("baseline-snapshot", forKey: .source)
        var m = c.nestedContainer(keyedBy: MetadataKeys.self, forKey: .metadata)
        try m.encode(dump.id, forKey: .name)
        try m.encodeIfPresent(w.containerID, forKey: .containerID)
        try m.encode(String(dump.start), forKey: .start)
        try m.encode(String(dump.end), forKey: .end)
        try m.encode(dump.differentiateArgs, forKey: .differentiateArgs)
        var tags = ["image_name:\(w.imageName)", "image_tag:\(w.imageTag)"]
        if let service = w.service { tags.append("service:\(service)") }
        if let id = w.containerID { tags.append("container_id:\(id)") }
        try c.encode(tags, forKey: .tags)
        try c.encode(zip(dump.activityDump.processes, dump.processes).map { Process(node: $0, snapshot: $1) }, forKey: .tree)
    }

    struct Process: Encodable {
        let node: ProcessNode
        let snapshot: SnapshotProcess

        enum Keys: String, CodingKey { case process, generationType = "generation_type", children, files, sockets }
        enum InfoKeys: String, CodingKey {
            case pid, ppid, comm, argv0, args, argsTruncated = "args_truncated", file, credentials, execTime = "exec_time"
            case containerID = "container_id"
        }
        enum FileInfoKeys: String, CodingKey { case path, basename }
        enum CredentialKeys: String, CodingKey { case uid, gid, effectiveUID = "effective_uid", effectiveGID = "effective_gid" }
        enum SocketKeys: String, CodingKey { case family, bind }
        enum BindKeys: String, CodingKey { case port, ip, `protocol` }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            let r = snapshot.record
            var info = c.nestedContainer(keyedBy: InfoKeys.self, forKey: .process)
            try info.encodeIfPresent(node.pid, forKey: .pid)
            try info.encode(r.ppid, forKey: .ppid)
            try info.encodeIfPresent(node.comm, forKey: .comm)
            try info.encodeIfPresent(node.argv0, forKey: .argv0)
            try info.encode(node.args, forKey: .args)
            if r.commandLine.truncatedArguments > 0 { try info.encode(true, forKey: .argsTruncated) }
            var file = info.nestedContainer(keyedBy: FileInfoKeys.self, forKey: .file)
            try file.encode(node.path, forKey: .path)
            try file.encode(node.path.split(separator: "/").last.map(String.init) ?? node.path, forKey: .basename)
            var credentials = info.nestedContainer(keyedBy: CredentialKeys.self, forKey: .credentials)
            try credentials.encodeIfPresent(r.credentials.uid, forKey: .uid)
            try credentials.encodeIfPresent(r.credentials.gid, forKey: .gid)
            try credentials.encodeIfPresent(r.credentials.euid, forKey: .effectiveUID)
            try credentials.encodeIfPresent(r.credentials.egid, forKey: .effectiveGID)
            try info.encodeIfPresent(r.startTime.map(String.init), forKey: .execTime)
            try info.encodeIfPresent(r.cgroup.container?.id, forKey: .containerID)
            try c.encode(DatadogSnapshotDocument.generationType, forKey: .generationType)
            if !node.children.isEmpty {
                try c.encode(zip(node.children, snapshot.children).map { Process(node: $0, snapshot: $1) }, forKey: .children)
            }
            if !node.files.isEmpty { try c.encode(FileTree(node.files).roots, forKey: .files) }
            if !node.binds.isEmpty {
                var sockets = c.nestedUnkeyedContainer(forKey: .sockets)
                for family in Set(node.binds.map(\.family)).sorted() {
                    var socket = sockets.nestedContainer(keyedBy: SocketKeys.self)
                    try socket.encode(family, forKey: .family)
                    var binds = socket.nestedUnkeyedContainer(forKey: .bind)
                    for b in node.binds where b.family == family {
                        var bind = binds.nestedContainer(keyedBy: BindKeys.self)
                        try bind.encode(b.port, forKey: .port)
                        try bind.encode(b.ip, forKey: .ip)
                        try bind.encode(DatadogSnapshotDocument.protocolNumbers[b.protocol] ?? 0, forKey: .protocol)
                    }
                }
            }
        }
    }

    /// `FileActivityNode`s: one node per path component; a file's own node has `file.path` and
    /// `open` (a directory node that is also an open file keeps both, as the agent's tree does).
    final class FileTree: Encodable {
        let name: String
        var access: FileAccess?
        var children: [FileTree] = []

        init(name: String) {
            self.name = name
        }

        /// The top-level nodes of a set of absolute paths.
        convenience init(_ files: [FileAccess]) {
            self.init(name: "")
            for f in files {
                var node = self
                for component in f.path.split(separator: "/") {
                    if let existing = node.children.first(where: { $0.name == component }) {
                        node = existing
                    } else {
                        let child = FileTree(name: String(component))
                        node.children.append(child)
                        node = child
                    }
                }
                if node !== self { node.access = f }
            }
        }

        var roots: [FileTree] { children }

        enum Keys: String, CodingKey { case name, file, open, children, generationType = "generation_type" }
        enum FileKeys: String, CodingKey { case path }
        enum OpenKeys: String, CodingKey { case flags, mode }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(name, forKey: .name)
            try c.encode(DatadogSnapshotDocument.generationType, forKey: .generationType)
            if let access {
                var file = c.nestedContainer(keyedBy: FileKeys.self, forKey: .file)
                try file.encode(access.path, forKey: .path)
                var open = c.nestedContainer(keyedBy: OpenKeys.self, forKey: .open)
                try open.encode(access.flags, forKey: .flags)
                try open.encode(access.mode, forKey: .mode)
            }
            if !children.isEmpty { try c.encode(children, forKey: .children) }
        }
    }
}
