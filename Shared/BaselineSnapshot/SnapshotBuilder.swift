import BaselineCore

/// Turns workload groups into dumps: reads each member fully, drops what cannot be placed
/// truthfully in the tree, attaches listening sockets, and checks dump-consumer's limits so no dump
/// is produced only to be dead-lettered.
public struct SnapshotBuilder: Sendable {
    public var reader: ProcReader
    public var differentiateArgs: Bool
    public var host: String?
    public var limits: DumpLimits

    public init(reader: ProcReader, differentiateArgs: Bool = false, host: String? = nil, limits: DumpLimits = DumpLimits()) {
        self.reader = reader
        self.differentiateArgs = differentiateArgs
        self.host = host
        self.limits = limits
    }

    public struct Output: Sendable {
        public var dumps: [SnapshotDump] = []
        public var stats = SnapshotStats()
        /// One line per workload left out, with the reason.
        public var notes: [String] = []
    }

    /// Sockets of one network namespace are read once per snapshot.
    final class SocketTables {
        var byNamespace: [String: SocketTable] = [:]
    }

    public func build(_ groups: [WorkloadGroup], table: ProcessTable, start: Int64, clock: () -> Int64) -> Output {
        var out = Output()
        let bootTime = reader.bootTime()
        let sockets = SocketTables()
        for group in groups {
            var stats = SnapshotStats()
            let roots = tree(group, table: table, bootTime: bootTime, sockets: sockets, stats: &stats)
            guard !roots.isEmpty else {
                out.stats.add(stats)
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
            do throws(Rejection) {
                try limits.check(dump.activityDump)
            } catch {
                out.stats.add(stats)
                out.stats.overLimits += 1
                out.notes.append("\(group.image.name) (\(workload.instanceID)): not produced, dump-consumer would reject it (\(error.code)): \(error.reason)")
                continue
            }
            // Container runtimes (containerd, dockerd, the shims: `ContainerRuntimes`) are dropped
            // at merge like an agent's roots; a workload of nothing else would be dead-lettered.
            if DumpNormalizer().normalize(dump.activityDump).processes.isEmpty {
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

    /// The group's process tree. A member that cannot be read is counted and left out, and so is
    /// everything below it: hanging its children elsewhere would invent a lineage.
    func tree(_ group: WorkloadGroup, table: ProcessTable, bootTime: Int64?, sockets: SocketTables,
              stats: inout SnapshotStats) -> [SnapshotProcess] {
        var records: [Int64: ProcessRecord] = [:]
        var failed: Set<Int64> = []
        for pid in group.members.sorted() {
            guard let summary = table.processes[pid] else { continue }
            do throws(ProcError) {
                records[pid] = try reader.record(summary, bootTime: bootTime)
            } catch {
                stats.count(error)
                failed.insert(pid)
            }
        }
        // By cgroup, a parent that could not even be listed may have been a member too.
        let unplaceable = group.membership == .cgroup ? failed.union(table.failed) : failed
        var children: [Int64: [Int64]] = [:]
        var roots: [Int64] = []
        for (pid, record) in records {
            if unplaceable.contains(record.ppid) { continue }
            if records[record.ppid] != nil && record.ppid != pid {
                children[record.ppid, default: []].append(pid)
            } else if !group.members.contains(record.ppid) || record.ppid == pid {
                roots.append(pid)
            }
        }
        var placed = 0
        func build(_ pid: Int64, depth: Int) -> SnapshotProcess {
            placed += 1
            let record = records[pid]!
            // One level past the limit is enough for the limit check to reject the dump.
            let kids = depth > limits.maxDepth ? [] : (children[pid] ?? []).sorted().map { build($0, depth: depth + 1) }
            return SnapshotProcess(record: record, binds: binds(of: record, sockets: sockets, stats: &stats), children: kids)
        }
        let tree = roots.sorted().map { build($0, depth: 1) }
        // Below a failed member, or in a parent cycle (only a forged /proc has one).
        stats.belowSkippedProcess += records.count - placed
        return tree
    }

    /// The listening sockets among the process's fds, in a stable order.
    func binds(of record: ProcessRecord, sockets: SocketTables, stats: inout SnapshotStats) -> [SocketBind] {
        guard !record.socketInodes.isEmpty else { return [] }
        let key = record.networkNamespace ?? "pid:\(record.pid)"
        if sockets.byNamespace[key] == nil {
            let (table, unreadable) = reader.socketTable(forProcess: record.pid)
            stats.socketTablesUnreadable += unreadable
            sockets.byNamespace[key] = table
        }
        let table = sockets.byNamespace[key]!
        let binds = Set(record.socketInodes.compactMap { table[$0] }.map {
            SocketBind(family: $0.family, ip: $0.ip, port: $0.port, protocol: $0.protocol)
        })
        return binds.sorted { ($0.family, $0.ip, $0.port, $0.protocol) < ($1.family, $1.ip, $1.port, $1.protocol) }
    }
}
