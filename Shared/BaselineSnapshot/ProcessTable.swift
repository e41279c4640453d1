/// Every process of the host at one moment (stat and cgroup, executables when asked), with the
/// parent → children map: the input of workload grouping.
public struct ProcessTable: Sendable {
    public var processes: [Int64: ProcessSummary] = [:]
    /// Listed processes that could not be read. A process whose parent is here is not attached to
    /// any other ancestor: that would invent a lineage.
    public var failed: Set<Int64> = []
    public var children: [Int64: [Int64]] = [:]
    /// Processes whose ppid names a process that started after them (the pid was reused): their
    /// real parent is gone, so they hang under nothing read.
    public var reusedParentPIDs: Set<Int64> = []
    public var stats = SnapshotStats()
    /// The processes that could not be read, with the reason (bounded).
    public var skipped: [SkippedProcess] = []

    public init() {}

    /// Reads the table. `excluding` (the snapshotting process itself) is left out silently.
    /// Listing the /proc root is the only failure that stops a snapshot: without it there is nothing.
    public static func scan(_ reader: ProcReader, excluding: Set<Int64> = [], executables: Bool = false) throws(ProcError) -> ProcessTable {
        var table = ProcessTable()
        let pids = try reader.listPIDs()
        // kthreadd is pid 2 of the host's /proc only; in a pid namespace's, pid 2 is anybody.
        let kthreaddAtPID2 = pids.contains(ProcStat.kthreaddPID)
            ? (try? reader.stat(ProcStat.kthreaddPID)).map { $0.flags & ProcStat.kernelThreadFlag != 0 } ?? true
            : false
        for pid in pids where !excluding.contains(pid) {
            table.stats.listed += 1
            do throws(ProcError) {
                let stat = try reader.stat(pid)
                if stat.isKernelThread(kthreaddAtPID2: kthreaddAtPID2) {
                    table.stats.kernelThreads += 1
                    continue
                }
                // A zombie whose other threads run on (its main thread called pthread_exit) is alive:
                // skipping it would hide a running program.
                var liveThread: Int64?
                if stat.isExited {
                    guard let tid = reader.liveThread(of: pid) else { throw .vanished }
                    liveThread = tid
                }
                var summary = try reader.summary(stat, liveThread: liveThread)
                if executables {
                    summary.executable = try reader.executable(directory: summary.directory)
                    summary.mountNamespace = reader.namespace(directory: summary.directory, "mnt")
                }
                table.processes[pid] = summary
            } catch {
                table.stats.count(error)
                table.failed.insert(pid)
                table.skipped.note(SkippedProcess(pid: pid, reason: error.description))
            }
        }
        for summary in table.processes.values {
            // A parent that started after its child is another process that got the pid when the
            // real parent exited during the scan: it is not the parent.
            if let parent = table.processes[summary.ppid], !parent.isParentCandidate(of: summary) {
                table.reusedParentPIDs.insert(summary.pid)
                continue
            }
            table.children[summary.ppid, default: []].append(summary.pid)
        }
        for key in table.children.keys { table.children[key]!.sort() }
        return table
    }

    /// Whether the process its ppid names is really its parent (it started no later than the child).
    public func parent(of summary: ProcessSummary) -> ProcessSummary? {
        guard let parent = processes[summary.ppid], parent.isParentCandidate(of: summary) else { return nil }
        return parent
    }

    /// `pid` and every process below it that was read.
    public func subtree(of pid: Int64) -> Set<Int64> {
        guard processes[pid] != nil else { return [] }
        var members: Set<Int64> = [pid]
        var stack = [pid]
        while let p = stack.popLast() {
            for c in children[p] ?? [] where members.insert(c).inserted { stack.append(c) }
        }
        return members
    }
}

extension ProcessSummary {
    /// A parent starts before (or in the same tick as) its child.
    func isParentCandidate(of child: ProcessSummary) -> Bool {
        stat.startTicks <= child.stat.startTicks
    }
}
