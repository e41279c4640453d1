import BaselineCore
@testable import BaselineSnapshot
import Foundation
import Testing

/// The attack shapes of the snapshot review (forged cgroups, user units, pid reuse, exec while
/// read, mount namespaces, unbounded workloads) on /proc trees written for each.
@Suite struct SnapshotAttackTests {
    static let idA = String(repeating: "a1", count: 32)
    static let userSlice = "/user.slice/user-1000.slice/user@1000.service/app.slice"

    func snapshot(_ tree: FakeProcTree, _ selector: WorkloadSelector, naming: WorkloadNaming = WorkloadNaming(image: "img"),
                  rootless: Bool = false, limits: DumpLimits = DumpLimits()) throws -> SnapshotBuilder.Output {
        let snapshotter = Snapshotter(reader: tree.reader(),
                                      grouping: WorkloadGrouping(selector: selector, naming: naming, includeUserManagers: rootless),
                                      excluding: [], limits: limits)
        return try snapshotter.snapshot(clock: { 1_800_000_000_000_000_000 })
    }

    // MARK: C1, forged container ids

    @Test func aUserCannotClaimAContainerIDFromItsOwnManager() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(1, ppid: 0, exe: "/sbin/init", cgroup: "/init.scope")
        try tree.process(100, ppid: 1, exe: "/usr/sbin/nginx", cgroup: "/system.slice/docker-\(Self.idA).scope")
        // `systemd-run --user --scope --unit=docker-<id> /tmp/evil`
        try tree.process(200, ppid: 1, exe: "/tmp/evil", cgroup: "\(Self.userSlice)/docker-\(Self.idA).scope", start: 2000)
        let out = try snapshot(tree, .containers())
        #expect(out.dumps.count == 1)
        #expect(out.dumps.first?.processes.map(\.record.pid) == [100])
        #expect(out.stats.userManagerProcesses == 1)
        // With --rootless the user's cgroups count, and one id under two paths is dumped for neither.
        let rootless = try snapshot(tree, .containers(), rootless: true)
        #expect(rootless.dumps.isEmpty)
        #expect(rootless.stats.ambiguousContainers == 1)
        #expect(rootless.notes.contains { $0.contains("claimed under 2 cgroup paths") })
    }

    @Test func oneIDUnderTwoRuntimePrefixesIsDumpedForNeither() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(100, ppid: 1, exe: "/usr/sbin/nginx", cgroup: "/system.slice/docker-\(Self.idA).scope")
        try tree.process(200, ppid: 1, exe: "/tmp/evil", cgroup: "/machine.slice/libpod-\(Self.idA).scope", start: 2000)
        let out = try snapshot(tree, .containers())
        #expect(out.dumps.isEmpty)
        #expect(out.stats.ambiguousContainers == 1)
        #expect(out.stats.summary.contains("1 containers whose id is claimed twice"))
    }

    @Test func aNestedCgroupNamedAfterAnotherContainerStaysInItsOwn() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        let idB = String(repeating: "b2", count: 32)
        try tree.process(100, ppid: 1, exe: "/usr/sbin/nginx", cgroup: "/system.slice/docker-\(idB).scope")
        try tree.process(300, ppid: 1, exe: "/app", cgroup: "/system.slice/docker-\(Self.idA).scope")
        try tree.process(301, ppid: 300, exe: "/tmp/evil", cgroup: "/system.slice/docker-\(Self.idA).scope/\(idB)", start: 2000)
        let out = try snapshot(tree, .containers())
        let byID = Dictionary(uniqueKeysWithValues: out.dumps.map { ($0.workload.containerID!, $0) })
        #expect(byID[idB]?.processes.map(\.record.pid) == [100])
        var pidsOfA: [Int64] = []
        byID[Self.idA]?.forEachProcess { pidsOfA.append($0.record.pid) }
        #expect(pidsOfA.sorted() == [300, 301])
    }

    // MARK: H1, user units

    @Test func aUserServiceNeverJoinsTheSystemUnitOfTheSameName() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(10, ppid: 1, exe: "/usr/sbin/nginx", cgroup: "/system.slice/nginx.service")
        // `systemd-run --user --unit=nginx.service /tmp/evil`
        try tree.process(20, ppid: 1, exe: "/tmp/evil", cgroup: "\(Self.userSlice)/nginx.service")
        let table = try ProcessTable.scan(tree.reader())
        let named = WorkloadGrouping(selector: .units(names: ["nginx"])).groups(table)
        #expect(named.groups.map(\.members) == [[10]])
        #expect(named.userManagerProcesses == 1)
        #expect(WorkloadGrouping(selector: .units()).groups(table).groups.map(\.members) == [[10]])
        // With --rootless the user's unit is a workload of its own, with its own instance.
        let both = WorkloadGrouping(selector: .units(names: ["nginx"]), includeUserManagers: true).groups(table).groups
        #expect(Set(both.map(\.members)) == [[10], [20]])
        #expect(Set(both.compactMap(\.service)) == ["nginx.service", "user@1000.service/nginx.service"])
    }

    // MARK: H3, H4: bounded reading, sizes

    @Test func readingStopsAtTheDumpLimits() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        for pid in Int64(10)...14 { try tree.process(pid, ppid: pid == 10 ? 1 : 10, exe: "/usr/bin/worker", cgroup: "/system.slice/w.service") }
        let out = try snapshot(tree, .units(names: ["w"]), limits: DumpLimits(maxNodes: 3))
        #expect(out.dumps.isEmpty)
        #expect(out.stats.overLimits == 1)
        #expect(out.stats.recordsRead <= 4)
        #expect(out.notes.first?.contains("over the dump limits while read") == true)
    }

    @Test func aHugeWorkloadIsNotProducedAndTheOthersAre() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        // 4 processes with 256 KiB of arguments each (64 × 4096 bytes: each within the string limit).
        let fat = ["/usr/bin/fat"] + (0..<64).map { "\($0)" + String(repeating: "x", count: 4090) }
        for pid in Int64(10)...13 {
            try tree.process(pid, ppid: pid == 10 ? 1 : 10, exe: "/usr/bin/fat", cgroup: "/system.slice/fat.service", args: fat)
        }
        try tree.process(20, ppid: 1, exe: "/usr/bin/small", cgroup: "/system.slice/small.service")
        let out = try snapshot(tree, .units())
        #expect(out.dumps.map(\.workload.imageName) == ["img"])
        #expect(out.dumps.first?.processes.map(\.record.pid) == [20])
        #expect(out.stats.overLimits == 1)
        #expect(out.notes.contains { $0.contains("over the dump limits") || $0.contains("output_too_large") })
    }

    @Test func encodedDumpsOverTheMessageSizeAreLeftOutAlone() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(10, ppid: 1, exe: "/usr/bin/big", cgroup: "/system.slice/big.service",
                         args: ["/usr/bin/big"] + (0..<20).map { String(repeating: "y", count: 1000) + "\($0)" })
        try tree.process(20, ppid: 1, exe: "/usr/bin/small", cgroup: "/system.slice/small.service")
        let out = try snapshot(tree, .units(), naming: WorkloadNaming())
        #expect(out.dumps.count == 2)
        let encoded = SnapshotPayloads(format: .baseline, maxMessageBytes: 10_000).encode(out.dumps)
        #expect(encoded.encoded.map(\.dump.workload.imageName) == ["small"])
        #expect(encoded.tooLarge == 1)
        #expect(encoded.notes.first?.hasPrefix("big (node1/big.service): not produced, its dump is") == true)
        #expect(SnapshotPayloads(format: .datadog).encode(out.dumps).encoded.count == 2)
    }

    @Test func aNodeKeyPostgreSQLCannotIndexIsCaughtBeforeSending() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        // An open file whose path (about 2 000 bytes) passes the string limit but not the index.
        var dir = tree.files
        for i in 0..<10 { dir += "/" + String(repeating: "d", count: 200) + "\(i)" }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/f", contents: Data("x".utf8))
        try tree.process(10, ppid: 1, exe: "/usr/bin/app", cgroup: "/system.slice/app.service")
        try tree.link("10/fd/3", to: dir + "/f")
        let out = try snapshot(tree, .units())
        #expect(out.dumps.isEmpty)
        #expect(out.notes.first?.contains("node_key_too_long") == true)
    }

    // MARK: M1, M2, M4, M6

    @Test func aProcessThatExecdWhileReadIsRejected() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(10, ppid: 1, exe: "/bin/other", cgroup: "/system.slice/app.service")
        let reader = tree.reader()
        var summary = try reader.summary(try reader.stat(10))
        summary.executable = "/usr/sbin/nginx"  // what the scan read before the exec
        #expect(throws: ProcError.replaced) { try reader.record(summary, bootTime: nil) }
        summary.executable = "/bin/other"
        #expect(try reader.record(summary, bootTime: nil).executable == "/bin/other")
    }

    @Test func matchKeepsOneMountNamespace() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(1, ppid: 0, exe: "/sbin/init", cgroup: "/init.scope")
        // `unshare -rm; mount --bind /tmp/evil /usr/sbin/nginx` started before the real nginx.
        try tree.process(50, ppid: 1, exe: "/usr/sbin/nginx", cgroup: "/user.slice/session-3.scope", mountNamespace: "mnt:[4026532999]")
        try tree.process(100, ppid: 1, exe: "/usr/sbin/nginx", cgroup: "/system.slice/nginx.service")
        let out = try snapshot(tree, .match([Glob("/usr/sbin/nginx")]), naming: WorkloadNaming())
        #expect(out.dumps.first?.processes.map(\.record.pid) == [100])
        #expect(out.stats.otherMountNamespaces == 1)
    }

    @Test func aFailedSocketTableReadIsNotCachedForTheNamespace() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        // A's table cannot be read (it exited, or its net/ is gone); B shares its namespace and listens.
        try tree.process(10, ppid: 1, exe: "/usr/bin/a", cgroup: "/system.slice/app.service", networkNamespace: "net:[1]", sockets: [555])
        try tree.process(11, ppid: 1, exe: "/usr/bin/b", cgroup: "/system.slice/app.service", networkNamespace: "net:[1]", sockets: [777])
        try tree.listeningTCP(11, port: 8080, inode: 777)
        let out = try snapshot(tree, .units())
        var binds: [Int64: [SocketBind]] = [:]
        out.dumps.first?.forEachProcess { binds[$0.record.pid] = $0.binds }
        #expect(binds[11] == [SocketBind(family: "AF_INET", ip: "127.0.0.1", port: 8080, protocol: "tcp")])
        #expect(binds[10] == [])
    }

    @Test func aSocketTableOfAProcessThatLeftTheNamespaceIsNotUsed() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(10, ppid: 1, exe: "/usr/bin/a", cgroup: "/system.slice/app.service", networkNamespace: "net:[1]", sockets: [777])
        try tree.listeningTCP(10, port: 8080, inode: 777)
        let reader = tree.reader()
        let table = try ProcessTable.scan(reader)
        var record = try reader.record(table.processes[10]!, bootTime: nil)
        // Read in namespace 1, but in namespace 2 by the time its table is read (it unshared).
        try tree.link("10/ns/net", to: "net:[2]")
        let builder = SnapshotBuilder(reader: reader)
        var stats = SnapshotStats()
        #expect(builder.binds(of: record, sockets: SnapshotBuilder.SocketTables(), stats: &stats).isEmpty)
        #expect(stats.socketTablesUnreadable == 1)
        record.networkNamespace = "net:[2]"
        #expect(builder.binds(of: record, sockets: SnapshotBuilder.SocketTables(), stats: &stats).count == 1)
    }

    @Test func aParentThatStartedAfterItsChildIsNotItsParent() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        // 42 exited while the scan ran and a new process got its pid: 500's ppid still says 42.
        try tree.process(42, ppid: 1, exe: "/usr/bin/new", cgroup: "/system.slice/app.service", start: 900)
        try tree.process(43, ppid: 42, exe: "/usr/bin/newchild", cgroup: "/system.slice/app.service", start: 950)
        try tree.process(500, ppid: 42, exe: "/usr/bin/old", cgroup: "/system.slice/app.service", start: 500)
        let table = try ProcessTable.scan(tree.reader())
        #expect(table.children[42] == [43])
        #expect(table.subtree(of: 42) == [42, 43])
        let out = try snapshot(tree, .units())
        let root = try #require(out.dumps.first?.processes.first)
        #expect(root.record.pid == 42 && root.children.map(\.record.pid) == [43])
        var all: [Int64] = []
        out.dumps.first?.forEachProcess { all.append($0.record.pid) }
        #expect(!all.contains(500))
    }

    // MARK: L3, a program run from memory

    @Test func aProgramRunFromMemoryKeepsItsMarker() throws {
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create"))
        let memfdCreate = unsafeBitCast(symbol, to: MemfdCreate.self)
        // A copy of sleep in anonymous memory, run through /proc/<test>/fd/N (fileless execution).
        let fd = memfdCreate("sleeper", 0)
        #expect(fd >= 0)
        defer { close(fd) }
        let program = try Data(contentsOf: URL(fileURLWithPath: "/bin/sleep"))
        let written = program.withUnsafeBytes { write(fd, $0.baseAddress!, program.count) }
        #expect(written == program.count)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/\(getpid())/fd/\(fd)")
        process.arguments = ["30"]
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let reader = ProcReader()
        var executable = try reader.executable(Int64(process.processIdentifier))
        for _ in 0..<200 where !executable.hasPrefix("/memfd:") {  // until the exec is done
            usleep(10_000)
            executable = try reader.executable(Int64(process.processIdentifier))
        }
        #expect(executable == "/memfd:sleeper (deleted)")
    }

    // MARK: L4, a zombie leader whose threads run on

    @Test func aProcessWhoseMainThreadExitedIsStillDumped() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        // pthread_exit in main: the leader is a zombie (its exe, fds and memory read as gone), the
        // other thread runs the program on, holding the file and the listener.
        try tree.process(10, ppid: 1, exe: "/usr/bin/app", cgroup: "/system.slice/app.service", state: "Z")
        for entry in ["exe", "cmdline", "ns/net", "ns/mnt"] { try? FileManager.default.removeItem(atPath: tree.root + "/10/" + entry) }
        try tree.process(10, ppid: 1, exe: "/tmp/evil", cgroup: "/system.slice/app.service", args: ["/tmp/evil", "-l"],
                         openFiles: ["secret"], sockets: [4444], directory: "10/task/11")
        try tree.listeningTCP(10, port: 4444, inode: 4444)
        try FileManager.default.moveItem(atPath: tree.root + "/10/net", toPath: tree.root + "/10/task/11/net")
        let out = try snapshot(tree, .units())
        let p = try #require(out.dumps.first?.processes.first)
        #expect(p.record.pid == 10 && p.record.executable == "/tmp/evil")
        #expect(p.record.commandLine.args == ["-l"])
        #expect(p.node.files.map(\.path) == [try tree.file("secret")])
        #expect(p.binds.map(\.port) == [4444])
        #expect(out.stats.vanished == 0)
        // A zombie with no thread left is gone.
        try FileManager.default.removeItem(atPath: tree.root + "/10/task/11")
        #expect(try snapshot(tree, .units()).stats.vanished == 1)
    }

    // MARK: L4, pid 2 of a pid namespace

    @Test func pid2OfAPidNamespaceIsNoKernelThread() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        // A container's /proc: its init is 1, its second process 2 (no PF_KTHREAD), and a child of 2.
        try tree.process(1, ppid: 0, exe: "/sbin/tini", cgroup: "/")
        try tree.process(2, ppid: 1, exe: "/usr/sbin/sshd", cgroup: "/")
        try tree.process(3, ppid: 2, exe: "/tmp/evil", cgroup: "/")
        let table = try ProcessTable.scan(tree.reader())
        #expect(table.stats.kernelThreads == 0)
        #expect(table.subtree(of: 2) == [2, 3])
    }

    // MARK: L1, a container's own /proc

    @Test func aContainersOwnProcPathsReduceWithItsNamespacePID() {
        let credentials = ProcCredentials(status: "Name:\tapp\nNSpid:\t41234\t7\nUid:\t0\t0\t0\t0\n")
        #expect(credentials.namespacePID == 7)
        let record = ProcessRecord(pid: 41234, ppid: 1, comm: "app", executable: "/app", commandLine: ProcCommandLine(argv0: "app", args: []),
                                   credentials: credentials, cgroup: CgroupMembership(path: "/"),
                                   files: [OpenFile(path: "/proc/7/status", flags: 0), OpenFile(path: "/proc/8/stat", flags: 0)])
        let node = SnapshotProcess(record: record).node
        #expect(node.files.map(\.path) == ["/proc/*/stat", "/proc/self/status"])
        #expect(node.pid == 41234)
    }

    // MARK: H5, reads that block

    @Test func aReadThatBlocksIsAbandonedAndCountedNotAStall() throws {
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(10, ppid: 1, exe: "/usr/bin/stuck", cgroup: "/system.slice/app.service")
        try tree.process(11, ppid: 1, exe: "/usr/bin/fine", cgroup: "/system.slice/app.service")
        // Its cmdline blocks like one of a process stuck on a hung mount: a FIFO with no writer.
        let fifo = tree.root + "/10/cmdline"
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        let deadline = ReadDeadline(timeout: .milliseconds(300))
        let snapshotter = Snapshotter(reader: tree.reader(), grouping: WorkloadGrouping(selector: .units(), naming: WorkloadNaming(image: "img")),
                                      excluding: [], deadline: deadline)
        let out = try snapshotter.snapshot(clock: { 1 })
        #expect(out.stats.timedOut == 1)
        #expect(out.stats.summary.contains("1 timed out"))
        #expect(out.dumps.first?.processes.map(\.record.pid) == [11])
        #expect(deadline.stuckCount == 1)
        // The next round does not read it again: one blocked thread per stuck process, not per round.
        let again = try snapshotter.snapshot(clock: { 2 })
        #expect(again.stats.timedOut == 1 && deadline.stuckCount == 1)
        // Unblocked (a writer comes and goes), the abandoned read ends and the process is read again.
        let writer = open(fifo, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0)
        close(writer)
        for _ in 0..<500 where deadline.stuckCount > 0 { usleep(10_000) }
        #expect(deadline.stuckCount == 0)
    }

    // MARK: H5, statx

    @Test func statxLayoutAndDeletedOpenFiles() throws {
        #expect(MemoryLayout<Statx.Buffer>.size == 256)
        #expect(Statx.function != nil)  // Linux with glibc 2.28+
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("statx-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let fs = ProcFileSystem(root: "/proc")
        #expect(try fs.status("self/fd/\(fd)") == ProcFileStatus(isRegularFile: true, linkCount: 1))
        unlink(path)
        #expect(try fs.status("self/fd/\(fd)") == ProcFileStatus(isRegularFile: true, linkCount: 0))
        #expect(throws: ProcError.vanished) { try fs.status("self/fd/999999") }
    }
}
