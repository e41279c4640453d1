import BaselineCore
import BaselineSnapshot
import Foundation
import Testing

/// Snapshots of this machine's real /proc: a process tree the test starts (its exact behaviour),
/// and whole-host scans while processes come and go.
@Suite(.serialized) struct LiveSnapshotTests {
    static func now() -> Int64 { Timestamps.nanoseconds(Date()) ?? 0 }

    @Test func aTreeTheTestStartsIsExactlyWhatItDoes() throws {
        let workload = try SnapshotWorkload()
        defer { workload.stop() }
        let before = Self.now()
        let snapshotter = Snapshotter(grouping: WorkloadGrouping(selector: .pid(workload.shellPID),
                                                                 naming: WorkloadNaming(image: "snapshot-test", tag: "1")))
        let out = try snapshotter.snapshot(clock: Self.now)
        #expect(out.dumps.count == 1)
        let dump = try #require(out.dumps.first)
        // Tree shape, executables, argv0, args, comm, pids, files with their open flags, listening
        // sockets: exactly what the test set up, nothing else in the subtree.
        #expect(dump.activityDump.processes == workload.expectedProcesses())
        #expect(dump.workload.imageName == "snapshot-test" && dump.workload.imageTag == "1")
        #expect(dump.workload.containerID == nil && dump.workload.host != nil)
        #expect(out.stats.processes == 4 && out.stats.files == 5 && out.stats.sockets == 3)
        // (Vanished and the like count the whole host's listing, where other processes come and go.)
        #expect(out.stats.belowSkippedProcess == 0 && out.stats.fdTablesTruncated == 0 && out.stats.argumentsTruncated == 0)

        // What only a snapshot knows: ids and start times (after boot, not after this snapshot).
        var records: [ProcessRecord] = []
        dump.forEachProcess { records.append($0.record) }
        for r in records {
            #expect(r.credentials.uid == UInt32(getuid()) && r.credentials.euid == UInt32(geteuid()))
            #expect(r.credentials.gid == UInt32(getgid()))
            let start = try #require(r.startTime)
            #expect(start <= dump.end + 1_000_000_000)  // ticks round down; btime is whole seconds
            #expect(start >= before - 600 * 1_000_000_000)
        }
        #expect(records.map(\.ppid).sorted() == [Int64(getpid()), workload.shellPID, workload.shellPID, workload.serverPID].sorted())

        // Both encodings decode as an agent's dump would, and dump-consumer accepts them.
        let decoder = DumpDecoder()
        for format in SnapshotFormat.allCases {
            let bytes = try format.encode(dump)
            var decoded = try decoder.decodeRaw(bytes).1
            decoded.workload.containerCreatedAt = nil
            #expect(decoded == dump.activityDump, "\(format)")
            let request = try decoder.decode(bytes, receivedAt: Self.now())
            #expect(request.dumpID == dump.id && request.profileKey == "snapshot-test")
        }
    }

    @Test func matchFindsTheTreeByItsServerScript() throws {
        let workload = try SnapshotWorkload()
        defer { workload.stop() }
        // Matched by executable: the server (and any other python of the host) with what is below
        // it; the shell above it is not part of the match.
        let out = try Snapshotter(grouping: WorkloadGrouping(selector: .match([Glob(SnapshotWorkload.realpath(SnapshotWorkload.python))])))
            .snapshot(clock: Self.now)
        var pids: Set<Int64> = []
        out.dumps.first?.forEachProcess { pids.insert($0.record.pid) }
        #expect(pids.contains(workload.serverPID) && pids.contains(workload.serverChildPID))
        #expect(!pids.contains(workload.shellPID))  // the shell is above the match
    }

    /// Every listed process ends up counted once: read, a kernel thread, or skipped with a reason.
    @Test func wholeHostScansAccountForEveryProcess() throws {
        let table = try ProcessTable.scan(ProcReader())
        #expect(table.stats.listed == table.processes.count + table.stats.kernelThreads + table.failed.count)
        #expect(table.processes[Int64(getpid())] != nil)
        for selector in [WorkloadSelector.containers(), .units(), .match([Glob("*")])] {
            let out = try Snapshotter(grouping: WorkloadGrouping(selector: selector, naming: WorkloadNaming(image: "host")))
                .snapshot(clock: Self.now)
            let s = out.stats
            #expect(s.listed > 0)
            #expect(s.processes <= s.listed - s.kernelThreads)
            for dump in out.dumps { #expect(throws: Never.self) { try DumpLimits().check(dump.activityDump) } }
        }
    }

    /// Processes that exit while the snapshot reads them are skipped and counted, never fatal, and
    /// never leave a process attached to the wrong parent.
    @Test func churnIsSkippedAndCounted() throws {
        let churn = Process()
        churn.executableURL = URL(fileURLWithPath: "/bin/sh")
        churn.arguments = ["-c", "while :; do /bin/true; /bin/true & wait; done"]
        churn.standardInput = FileHandle.nullDevice
        churn.standardOutput = FileHandle.nullDevice
        churn.standardError = FileHandle.nullDevice
        try churn.run()
        defer {
            churn.terminate()
            churn.waitUntilExit()
        }
        let shell = Int64(churn.processIdentifier)
        let snapshotter = Snapshotter(grouping: WorkloadGrouping(selector: .pid(shell), naming: WorkloadNaming(image: "churn")))
        var total = SnapshotStats()
        for _ in 0..<50 {
            let out = try snapshotter.snapshot(clock: Self.now)
            total.add(out.stats)
            for dump in out.dumps {
                // The shell is the only root; anything below it is its own child.
                #expect(dump.processes.map(\.record.pid) == [shell])
                for child in dump.processes.first?.children ?? [] { #expect(child.record.ppid == shell) }
            }
        }
        #expect(total.workloads > 0)
        #expect(total.processes >= total.workloads)
    }
}
