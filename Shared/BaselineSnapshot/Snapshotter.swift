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
    /// The host name the dumps carry (default: the UTS name of the /proc tree).
    public var host: String?
    /// Left out of every snapshot: the snapshotting process itself by default.
    public var excluding: Set<Int64>

    public init(reader: ProcReader = ProcReader(), grouping: WorkloadGrouping, differentiateArgs: Bool = false,
                host: String? = nil, excluding: Set<Int64> = [Int64(getpid())]) {
        self.reader = reader
        self.grouping = grouping
        self.differentiateArgs = differentiateArgs
        self.host = host
        self.excluding = excluding
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `clock` gives nanoseconds since the epoch (start and end of the dumps' window).
    public func snapshot(clock: () -> Int64) throws(Failure) -> SnapshotBuilder.Output {
        let start = clock()
        var table: ProcessTable
        do throws(ProcError) {
            table = try ProcessTable.scan(reader, excluding: excluding, executables: grouping.selector.needsExecutables)
        } catch {
            throw Failure(description: "cannot list the processes under \(reader.fs.root): \(error)")
        }
        if case .pid(let pid) = grouping.selector, table.processes[pid] != nil {
            // Its name defaults to its executable's.
            table.processes[pid]!.executable = try? reader.executable(pid)
        }
        let grouped = grouping.groups(table)
        let builder = SnapshotBuilder(reader: reader, differentiateArgs: differentiateArgs, host: host ?? reader.hostname())
        var out = builder.build(grouped.groups, table: table, start: start, clock: clock)
        var stats = table.stats
        stats.add(out.stats)
        stats.unnamedContainers += grouped.unnamedContainers
        out.stats = stats
        out.notes = grouped.notes + out.notes
        return out
    }
}
