import BaselineCore
import Foundation

/// The formats a snapshot is written in; both decode with dump-consumer's `DumpDecoder` to the
/// same `ActivityDump` (Datadog's has no `container_created_at`).
public enum SnapshotFormat: String, CaseIterable, Sendable {
    /// Baseline's own JSON (`baseline.activity-dump/v1`).
    case baseline
    /// Datadog's `SecDump` in the protobuf JSON mapping.
    case datadog

    public func encode(_ dump: SnapshotDump) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch self {
        case .baseline: return Array(try encoder.encode(BaselineSnapshotDocument(dump)))
        case .datadog: return Array(try encoder.encode(DatadogSnapshotDocument(dump)))
        }
    }
}

/// Baseline's JSON of a snapshot: the activity dump, and on each process and file
/// `generation_type: "snapshot"` plus what only a snapshot knows (ppid, uid/gid, start time,
/// cgroup, container id). Those fields are informational: the schema lists them, dump-consumer
/// ignores them, they are no part of any identity.
struct BaselineSnapshotDocument: Encodable {
    static let generationType = "snapshot"
    let dump: SnapshotDump

    init(_ dump: SnapshotDump) {
        self.dump = dump
    }

    enum Keys: String, CodingKey {
        case schema, id, workload, start, end, differentiateArgs = "differentiate_args", processes, generationType = "generation_type"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let activity = dump.activityDump
        try c.encode(ActivityDump.schemaV1, forKey: .schema)
        try c.encode(dump.id, forKey: .id)
        try c.encode(dump.workload, forKey: .workload)
        try c.encode(dump.start, forKey: .start)
        try c.encode(dump.end, forKey: .end)
        try c.encode(dump.differentiateArgs, forKey: .differentiateArgs)
        // The whole dump is a snapshot: dump-consumer keeps that, and the merge counts it as no evidence.
        try c.encode(BaselineSnapshotDocument.generationType, forKey: .generationType)
        try c.encode(zip(activity.processes, dump.processes).map { Process(node: $0, snapshot: $1) }, forKey: .processes)
    }

    struct Process: Encodable {
        let node: ProcessNode
        let snapshot: SnapshotProcess

        enum Keys: String, CodingKey {
            case path, argv0, args, comm, pid, files, binds, children
            case generationType = "generation_type", ppid, uid, gid, euid, egid, startTime = "start_time", cgroup
            case containerID = "container_id"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            let r = snapshot.record
            try c.encode(node.path, forKey: .path)
            try c.encodeIfPresent(node.argv0, forKey: .argv0)
            try c.encode(node.args, forKey: .args)
            try c.encodeIfPresent(node.comm, forKey: .comm)
            try c.encodeIfPresent(node.pid, forKey: .pid)
            if !node.files.isEmpty { try c.encode(node.files.map(File.init), forKey: .files) }
            if !node.binds.isEmpty { try c.encode(node.binds, forKey: .binds) }
            if !node.children.isEmpty { try c.encode(zip(node.children, snapshot.children).map { Process(node: $0, snapshot: $1) }, forKey: .children) }
            try c.encode(BaselineSnapshotDocument.generationType, forKey: .generationType)
            try c.encode(r.ppid, forKey: .ppid)
            try c.encodeIfPresent(r.credentials.uid, forKey: .uid)
            try c.encodeIfPresent(r.credentials.gid, forKey: .gid)
            try c.encodeIfPresent(r.credentials.euid, forKey: .euid)
            try c.encodeIfPresent(r.credentials.egid, forKey: .egid)
            try c.encodeIfPresent(r.startTime, forKey: .startTime)
            try c.encode(r.cgroup.path, forKey: .cgroup)
            try c.encodeIfPresent(r.cgroup.container?.id, forKey: .containerID)
        }
    }

    struct File: Encodable {
        let access: FileAccess

        enum Keys: String, CodingKey { case path, flags, mode, generationType = "generation_type" }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(access.path, forKey: .path)
            try c.encode(access.flags, forKey: .flags)
            try c.encode(access.mode, forKey: .mode)
            try c.encode(BaselineSnapshotDocument.generationType, forKey: .generationType)
        }
    }
}
