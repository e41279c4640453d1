import BaselineCore
import Foundation

/// Turns workload groups into dumps: reads each member fully, drops what cannot be placed
/// truthfully in the tree, attaches listening sockets, and checks dump-consumer's limits (its
/// dump limits, and the storage limits of the merge request it would produce) so no dump is
/// produced only to be dead-lettered.
public struct SnapshotBuilder: Sendable {
    public var reader: ProcReader
    public var differentiateArgs: Bool
    public var host: String?
    public var limits: DumpLimits
    public var storage: StorageLimits
    /// Each process is read on a thread of its own, abandoned past this deadline (nil: read inline).
    public var deadline: ReadDeadline?

    public init(reader: ProcReader, differentiateArgs: Bool = false, host: String? = nil, limits: DumpLimits = DumpLimits(),
                storage: StorageLimits = StorageLimits(), deadline: ReadDeadline? = nil) {
        self.reader = reader
        self.differentiateArgs = differentiateArgs
        self.host = host
        self.limits = limits
        self.storage = storage
        self.deadline = deadline
    }

    public struct Output: Sendable {
        public var dumps: [SnapshotDump] = []
        public var stats = SnapshotStats()
        /// The processes left out while their workloads were read, with the reason (bounded).
        public var skipped: [SkippedProcess] = []
        /// One line per workload left out, with the reason.
        public var notes: [String] = []
    }

    /// Sockets of one network namespace are read once per snapshot, when the read was whole.
    final class SocketTables {
        var byNamespace: [String: SocketTable] = [:]
    }

    /// Bytes a workload may reach while read: what fits dump-consumer's payload and output limits
    /// (the merge request is the larger), so reading stops long before memory or work grows.
    var maxWorkloadBytes: Int { min(limits.maxPayloadBytes, storage.maxOutputBytes) }

    public func build(_ groups: [WorkloadGroup], table: ProcessTable, start: Int64, clock: () -> Int64) -> Output {
        var out = Output()
        let bootTime = reader.bootTime()
        let sockets = SocketTables()
        for group in groups {
            var stats = SnapshotStats()
            let read = tree(group, table: table, bootTime: bootTime, sockets: sockets, stats: &stats, skipped: &out.skipped)
            let roots: [SnapshotProcess]
            switch read {
            case .overLimit(let what):
                out.stats.add(stats)
                out.stats.overLimits += 1
                out.notes.append("\(group.image.name): not produced, over the dump limits while read (\(what)); reading stopped")
                continue
            case .tree(let tree):
                roots = tree
            }
            guard !roots.isEmpty else {
                out.stats.add(stats)
                out.stats.unreadWorkloads += 1
                out.notes.append("\(group.image.name): no process of the workload could be read")
                continue
            }
            var workload = Workload(imageName: group.image.name, imageTag: group.image.tag ?? "latest", service: group.service,
                                    containerID: group.container?.id ?? group.instance, host: host)
            if group.container != nil {
                // The container's first process started with it: warm-up runs from there.
                workload.containerCreatedAt = roots.compactMap(\.record.startTime).min()
            }
            let dump = SnapshotDump(id: "snapshot:\(workload.instanceID):\(start)", workload: workload, start: start,
                                    end: max(start, clock()), differentiateArgs: differentiateArgs, processes: roots)
            let activity = dump.activityDump
            // Container runtimes (containerd, dockerd, the shims: `ContainerRuntimes`) are dropped
            // at merge like an agent's roots; a workload of nothing else would be dead-lettered.
            let normalized = DumpNormalizer().normalize(activity)
            do throws(Rejection) {
                try limits.check(activity)
                if !normalized.processes.isEmpty { try checkStorage(normalized, id: dump.id, receivedAt: dump.end) }
            } catch {
                out.stats.add(stats)
                out.stats.overLimits += 1
                out.notes.append("\(group.image.name) (\(workload.instanceID)): not produced, dump-consumer would reject it (\(error.code)): \(error.reason)")
                continue
            }
            if normalized.processes.isEmpty {
                out.stats.add(stats)
                out.stats.runtimesOnly += 1
                out.notes.append("\(group.image.name) (\(workload.instanceID)): not produced, only container runtimes (dropped at merge)")
                continue
            }
            dump.forEachProcess { p in
                stats.processes += 1
                stats.files += p.record.files.count
                stats.sockets += p.binds.count
                stats.argumentsTruncated += p.record.commandLine.truncatedArguments
                if p.record.fdTableTruncated { stats.fdTablesTruncated += 1 }
            }
            stats.workloads = 1
            out.stats.add(stats)
            out.dumps.append(dump)
        }
        return out
    }

    /// What dump-consumer checks after decoding: node keys and identifiers PostgreSQL can index,
    /// and a merge request that fits a Kafka message.
    func checkStorage(_ normalized: ActivityDump, id: String, receivedAt: Int64) throws(Rejection) {
        let request = MergeRequest(dumpID: id, sourceFormat: DumpDecoder.Format.baselineJSON.rawValue, receivedAt: receivedAt,
                                   dump: normalized)
        try storage.check(request)
        let encoded = (try? JSONEncoder().encode(request))?.count ?? Int.max
        try storage.check(outputBytes: encoded)
    }

    enum TreeRead {
        case tree([SnapshotProcess])
        /// Reading stopped: the workload already holds more than a dump may.
        case overLimit(String)
    }

    /// The group's process tree. A member that cannot be read is counted and left out, and so is
    /// everything below it: hanging its children elsewhere would invent a lineage. Nodes and bytes
    /// are counted while reading, and reading stops past the dump limits: a container that forks
    /// a thousand children sharing 4096 fds with long paths costs a bounded amount.
    func tree(_ group: WorkloadGroup, table: ProcessTable, bootTime: Int64?, sockets: SocketTables,
              stats: inout SnapshotStats, skipped: inout [SkippedProcess]) -> TreeRead {
        var records: [Int64: ProcessRecord] = [:]
        var failed: Set<Int64> = []
        var nodes = 0, bytes = 0
        for pid in group.members.sorted() {
            guard let summary = table.processes[pid] else { continue }
            do throws(ProcError) {
                stats.recordsRead += 1
                let record: ProcessRecord
                if let deadline {
                    let reader = self.reader
                    record = try deadline.run(summary) { () throws(ProcError) -> ProcessRecord in
                        try reader.record(summary, bootTime: bootTime)
                    }
                } else {
                    record = try reader.record(summary, bootTime: bootTime)
                }
                records[pid] = record
                nodes += 1 + record.files.count + record.socketInodes.count
                bytes += Self.estimatedBytes(record)
                if nodes > limits.maxNodes {
                    return .overLimit("more than \(limits.maxNodes) nodes after \(records.count) process(es)")
                }
                if bytes > maxWorkloadBytes {
                    return .overLimit("more than \(maxWorkloadBytes) bytes after \(records.count) process(es)")
                }
            } catch {
                stats.count(error)
                failed.insert(pid)
                skipped.note(SkippedProcess(pid: pid, comm: summary.stat.comm, workload: group.image.name, reason: error.description))
            }
        }
        // By cgroup, a parent that could not even be listed may have been a member too.
        let unplaceable = group.membership == .cgroup ? failed.union(table.failed) : failed
        var children: [Int64: [Int64]] = [:]
        var roots: [Int64] = []
        for (pid, record) in records {
            if table.reusedParentPIDs.contains(pid) {
                // Its real parent exited during the scan: a member by cgroup may have been below
                // another member (left out, as below a failed one); a subtree root stays a root.
                if group.membership == .subtree && !group.members.contains(record.ppid) { roots.append(pid) }
                continue
            }
            if unplaceable.contains(record.ppid) { continue }
            if records[record.ppid] != nil && record.ppid != pid {
                children[record.ppid, default: []].append(pid)
            } else if !group.members.contains(record.ppid) || record.ppid == pid {
                roots.append(pid)
            }
        }
        var placed = 0
        var placedPIDs: Set<Int64> = []
        func build(_ pid: Int64, depth: Int) -> SnapshotProcess {
            placed += 1
            placedPIDs.insert(pid)
            let record = records[pid]!
            // One level past the limit is enough for the limit check to reject the dump.
            let kids = depth > limits.maxDepth ? [] : (children[pid] ?? []).sorted().map { build($0, depth: depth + 1) }
            return SnapshotProcess(record: record, binds: binds(of: record, sockets: sockets, stats: &stats), children: kids)
        }
        let tree = roots.sorted().map { build($0, depth: 1) }
        // Below a failed member, or in a parent cycle (only a forged /proc has one).
        stats.belowSkippedProcess += records.count - placed
        for pid in records.keys.sorted() where !placedPIDs.contains(pid) {
            skipped.note(SkippedProcess(pid: pid, comm: records[pid]!.comm, workload: group.image.name,
                                        reason: table.reusedParentPIDs.contains(pid) ? "its parent's pid was reused during the scan"
                                                                                     : "below a process that could not be read"))
        }
        return .tree(tree)
    }

    /// About what a record adds to the encoded dump: its strings and some framing per node.
    static func estimatedBytes(_ r: ProcessRecord) -> Int {
        var n = 64 + r.executable.utf8.count + r.comm.utf8.count + (r.commandLine.argv0?.utf8.count ?? 0)
        for a in r.commandLine.args { n += a.utf8.count + 4 }
        for f in r.files { n += f.path.utf8.count + 32 }
        return n + r.socketInodes.count * 64
    }

    /// The listening sockets among the process's fds, in a stable order. A table is kept for the
    /// namespace only when it was read whole and the process was still in that namespace after
    /// reading it (it may have exited, or unshared into another one, meanwhile).
    func binds(of record: ProcessRecord, sockets: SocketTables, stats: inout SnapshotStats) -> [SocketBind] {
        guard !record.socketInodes.isEmpty else { return [] }
        let key = record.networkNamespace ?? "pid:\(record.pid)"
        let table: SocketTable
        if let cached = sockets.byNamespace[key] {
            table = cached
        } else {
            let (read, unreadable) = reader.socketTable(directory: record.directory)
            stats.socketTablesUnreadable += unreadable
            let stillThere = record.networkNamespace == nil || reader.namespace(directory: record.directory, "net") == record.networkNamespace
            if !stillThere { stats.socketTablesUnreadable += 1 }
            if unreadable == 0 && stillThere && record.networkNamespace != nil { sockets.byNamespace[key] = read }
            table = stillThere ? read : SocketTable()
        }
        let binds = Set(record.socketInodes.compactMap { table[$0] }.map {
            SocketBind(family: $0.family, ip: $0.ip, port: $0.port, protocol: $0.protocol)
        })
        return binds.sorted { ($0.family, $0.ip, $0.port, $0.protocol) < ($1.family, $1.ip, $1.port, $1.protocol) }
    }
}
