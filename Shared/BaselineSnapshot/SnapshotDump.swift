import BaselineCore

/// A process of a snapshot with what /proc said about it, and its listening sockets.
public struct SnapshotProcess: Hashable, Sendable {
    public var record: ProcessRecord
    public var binds: [SocketBind]
    public var children: [SnapshotProcess]

    public init(record: ProcessRecord, binds: [SocketBind] = [], children: [SnapshotProcess] = []) {
        self.record = record
        self.binds = binds
        self.children = children
    }

    /// The process as an activity-dump node: paths reduced as the merge reduces them (with the
    /// process's own pid, so `/proc/<pid>/…` of itself is `/proc/self/…`; in a container the pid
    /// its own /proc gives it, `NSpid`). Files carry their open flags; their mode (a creation
    /// mode, only known at open) is 0.
    public var node: ProcessNode {
        let paths = PathNormalizer()
        let pid = record.pid
        let ownPID = record.credentials.namespacePID ?? pid
        // Two open files may reduce to one path (`/proc/12/stat`, `/proc/13/stat`): one entry, flags OR-ed.
        var flags: [String: UInt32] = [:]
        for f in record.files { flags[paths.normalize(f.path, pid: ownPID), default: 0] |= f.flags }
        let argv0 = record.commandLine.argv0
        return ProcessNode(
            path: paths.normalize(record.executable, pid: ownPID), argv0: argv0?.isEmpty == false ? argv0 : nil,
            args: record.commandLine.args, comm: record.comm.isEmpty ? nil : record.comm, pid: pid,
            files: flags.keys.sorted().map { FileAccess(path: $0, flags: flags[$0]!) },
            binds: binds, children: children.map(\.node))
    }

    func forEach(_ body: (SnapshotProcess) -> Void) {
        body(self)
        for c in children { c.forEach(body) }
    }
}

/// One workload's snapshot: Baseline's activity dump plus what only a snapshot knows (ids,
/// start times, cgroups), which the encoders write as informational fields.
public struct SnapshotDump: Hashable, Sendable {
    public var id: String
    public var workload: Workload
    /// When reading started and ended, nanoseconds since the epoch.
    public var start: Int64
    public var end: Int64
    public var differentiateArgs: Bool
    public var processes: [SnapshotProcess]

    public init(id: String, workload: Workload, start: Int64, end: Int64, differentiateArgs: Bool = false,
                processes: [SnapshotProcess]) {
        self.id = id
        self.workload = workload
        self.start = start
        self.end = end
        self.differentiateArgs = differentiateArgs
        self.processes = processes
    }

    /// The dump as dump-consumer decodes it from either encoding.
    public var activityDump: ActivityDump {
        ActivityDump(id: id, workload: workload, start: start, end: end, differentiateArgs: differentiateArgs,
                     processes: processes.map(\.node), isSnapshot: true)
    }

    public func forEachProcess(_ body: (SnapshotProcess) -> Void) {
        for p in processes { p.forEach(body) }
    }
}
