#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BaselineCore

/// One snapshot of a host: list the processes, group them into workloads, build one dump each.
public struct Snapshotter: Sendable {
    public var reader: ProcReader
    public var grouping: WorkloadGrouping
    public var differentiateArgs: Bool
    /// The host name the dumps carry (default: the host name of the reader's UTS namespace, see
    /// `ProcReader.hostname`).
    public var host: String?
    /// Left out of every snapshot; nil: the snapshotting process itself, as the /proc tree numbers
    /// it (`<proc>/self`, which differs from `getpid()` when a host's /proc is read from a container).
    public var excluding: Set<Int64>?
    public var limits: DumpLimits
    public var storage: StorageLimits
    /// Reads of a process that block longer are abandoned and counted; kept across rounds, so a
    /// stuck process is not read again while it stays stuck (nil: read inline, never abandoned).
    public var deadline: ReadDeadline?

    public init(reader: ProcReader = ProcReader(), grouping: WorkloadGrouping, differentiateArgs: Bool = false,
                host: String? = nil, excluding: Set<Int64>? = nil, limits: DumpLimits = DumpLimits(),
                storage: StorageLimits = StorageLimits(), deadline: ReadDeadline? = ReadDeadline()) {
        self.reader = reader
        self.grouping = grouping
        self.differentiateArgs = differentiateArgs
        self.host = host
        self.excluding = excluding
        self.limits = limits
        self.storage = storage
        self.deadline = deadline
    }

    /// The pids left out: `excluding`, else the reading process itself. When `<proc>/self` is not
    /// there (a copy of a tree), nothing: `getpid()` would name some other process of that tree.
    var excludedPIDs: Set<Int64> {
        if let excluding { return excluding }
        return reader.selfPID().map { [$0] } ?? []
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What to say when the /proc root cannot be listed.
    static func listingFailure(root: String, _ error: ProcError) -> String {
        switch error {
        case .vanished: return "cannot list the processes under \(root): no such directory (is procfs mounted there? see --proc)"
        case .permissionDenied: return "cannot list the processes under \(root): permission denied"
        default: return "cannot list the processes under \(root): \(error) (is it a procfs? see --proc)"
        }
    }

    /// `clock` gives nanoseconds since the epoch (start and end of the dumps' window).
    public func snapshot(clock: () -> Int64) throws(Failure) -> SnapshotBuilder.Output {
        let start = clock()
        var table: ProcessTable
        do throws(ProcError) {
            table = try ProcessTable.scan(reader, excluding: excludedPIDs, executables: grouping.selector.needsExecutables)
        } catch {
            throw Failure(description: Self.listingFailure(root: reader.fs.root, error))
        }
        if case .pid(let pid) = grouping.selector, table.processes[pid] != nil {
            // Its name defaults to its executable's.
            table.processes[pid]!.executable = try? reader.executable(directory: table.processes[pid]!.directory)
        }
        let grouped = grouping.groups(table)
        let builder = SnapshotBuilder(reader: reader, differentiateArgs: differentiateArgs, host: host ?? reader.hostname(),
                                      limits: limits, storage: storage, deadline: deadline)
        var out = builder.build(grouped.groups, table: table, start: start, clock: clock)
        var stats = table.stats
        stats.add(out.stats)
        stats.unnamedContainers += grouped.unnamedContainers
        stats.ambiguousContainers += grouped.ambiguousContainers
        stats.userManagerProcesses += grouped.userManagerProcesses
        stats.otherMountNamespaces += grouped.otherMountNamespaces
        out.stats = stats
        out.notes = grouped.notes + out.notes
        out.skipped = table.skipped + out.skipped
        return out
    }
}
