import BaselineCore
@testable import BaselineSnapshot
import Foundation
import Testing

/// Whole snapshots of the captured /proc tree (Fixtures/README.md): grouping, naming, trees,
/// files, sockets, what is skipped and counted, and both encodings through dump-consumer's decoder.
@Suite struct FakeProcSnapshotTests {
    static let nginxID = "25f6fb263302c7585cfaf59f1cddd08f7db880c039fef8a2b42f1597db26c8fe"
    static let redisID = "b1f987c9d045c1f82c952d1e6e564c4ccb4be6be8412f55d8d3a82530279f56c"
    static let apiID = "9c272824d47d4d2b21d6c14598d96fa2a5c820097687c2cd9fa75a0ecc8ed11a"
    /// btime of the captured /proc/stat.
    static let bootSeconds: Int64 = 1_795_999_909

    func snapshot(_ proc: FakeProc, _ selector: WorkloadSelector, naming: WorkloadNaming = WorkloadNaming(),
                  limits: SnapshotLimits = SnapshotLimits()) throws -> SnapshotBuilder.Output {
        let snapshotter = Snapshotter(reader: proc.reader(limits: limits), grouping: WorkloadGrouping(selector: selector, naming: naming),
                                      excluding: [])
        var tick: Int64 = 1_800_000_000_000_000_000
        return try snapshotter.snapshot(clock: {
            tick += 1_000_000
            return tick
        })
    }

    /// name(pid) [args] {files} <binds> ( children )
    func shape(_ p: SnapshotProcess) -> String {
        let n = p.node
        var s = "\(n.path)(\(n.pid ?? 0))"
        if !n.args.isEmpty { s += " \(n.args)" }
        if !n.files.isEmpty { s += " {\(n.files.map(\.path).joined(separator: ", "))}" }
        if !n.binds.isEmpty { s += " <\(n.binds.map { "\($0.ip):\($0.port)/\($0.protocol)" }.joined(separator: ", "))>" }
        if !p.children.isEmpty { s += " (" + p.children.map(shape).joined(separator: "; ") + ")" }
        return s
    }

    @Test func scanCountsKernelThreadsAndUnreadableProcesses() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let table = try ProcessTable.scan(proc.reader())
        #expect(table.stats.listed == 25)
        #expect(table.stats.kernelThreads == 2)  // kthreadd and a kworker
        #expect(table.stats.unreadable == 1)  // the broken stat line
        #expect(table.failed == [8100])
        #expect(table.processes.count == 22)
        #expect(table.processes[2] == nil && table.processes[10] == nil)
        #expect(table.children[3001] == [3002])
        #expect(table.subtree(of: 17259) == [17259, 17261, 17262])
    }

    @Test func containersNeedANameAndAreCountedWithoutOne() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let out = try snapshot(proc, .containers())
        #expect(out.dumps.isEmpty)
        #expect(out.stats.unnamedContainers == 5)  // docker ×2, pause, api, cri-o; not conmon
        #expect(out.stats.summary.contains("5 containers without a name"))
        // Rootless podman sits below a user manager (any user names those cgroups): only with --rootless.
        #expect(out.stats.userManagerProcesses == 1)
        let rootless = Snapshotter(reader: proc.reader(), grouping: WorkloadGrouping(selector: .containers(), includeUserManagers: true),
                                   excluding: [])
        #expect(try rootless.snapshot(clock: { 1 }).stats.unnamedContainers == 6)
    }

    @Test func containersNamedByTheMappingFile() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let mapping = try ImageMapping(parsing: """
            /docker/*                       nginx:1.25
            */docker-*.scope                redis:7.2
            */cri-containerd-9c2728*        api
            """)
        let out = try snapshot(proc, .containers(), naming: WorkloadNaming(tag: "2.0", mapping: mapping))
        #expect(out.stats.unnamedContainers == 2)  // pause, cri-o; rootless podman is below a user manager
        #expect(out.stats.userManagerProcesses == 1)
        #expect(out.dumps.map { "\($0.workload.imageName):\($0.workload.imageTag) \($0.workload.containerID ?? "-")" } == [
            "nginx:1.25 \(Self.nginxID)", "api:2.0 \(Self.apiID)", "redis:7.2 \(Self.redisID)",
        ])  // ordered by container id
        let nginx = try #require(out.dumps.first)
        // The shim (another cgroup) is not part of it: the master is the root, the worker below it.
        #expect(nginx.processes.map(shape) == [
            "/usr/sbin/nginx(3001) {\(proc.file("nginx.conf"))} (/usr/sbin/nginx(3002) {\(proc.file("access.log"))})",
        ])
        let master = nginx.processes[0].record, worker = nginx.processes[0].children[0].record
        #expect(master.commandLine.argv0 == "nginx: master process nginx -g daemon off;")
        #expect(worker.credentials.uid == 101 && worker.credentials.egid == 101)
        #expect(master.cgroup.container == ContainerRef(id: Self.nginxID, runtime: .docker))
        // Start time: boot + 1 035 370 ticks of 100 Hz; the container started with its first process.
        let started = (Self.bootSeconds + 10_353) * 1_000_000_000 + 700_000_000
        #expect(master.startTime == started)
        #expect(nginx.workload.containerCreatedAt == started)
        #expect(nginx.workload.host == "vm")
        #expect(nginx.id == "snapshot:\(Self.nginxID):\(nginx.start)")
        #expect(nginx.end > nginx.start)
        #expect(out.stats.workloads == 3 && out.stats.processes == 4)
    }

    @Test func imageForEveryContainer() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let out = try snapshot(proc, .containers(idPrefixes: ["25F6", "b1f9"]), naming: WorkloadNaming(image: "web"))
        #expect(out.dumps.map(\.workload.containerID) == [Self.nginxID, Self.redisID])
        #expect(out.dumps.allSatisfy { $0.workload.imageName == "web" && $0.workload.imageTag == "latest" })
        #expect(out.stats.unnamedContainers == 0)
    }

    @Test func hostProcessesBySystemdUnit() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let out = try snapshot(proc, .units())
        // containerd.service holds only the shims, which the merge drops: no dump rather than a dead letter.
        #expect(out.dumps.map(\.workload.imageName) == ["cron", "supervisor"])
        #expect(out.stats.runtimesOnly == 1)
        #expect(out.notes == ["containerd (vm/containerd.service): not produced, only container runtimes (dropped at merge)"])
        let cron = try #require(out.dumps.first { $0.workload.imageName == "cron" })
        #expect(cron.workload.service == "cron.service" && cron.workload.containerID == nil)
        #expect(cron.workload.instanceID == "vm/cron.service")
        #expect(cron.processes.map(shape) == [#"/usr/sbin/cron(900) ["-f"] (/usr/bin/dash(901) ["-c", "run-parts /etc/cron.hourly"])"#])
        // supervisor's middle process exited while read: it and the process below it are left out,
        // never re-attached to the supervisor.
        let supervisor = try #require(out.dumps.last)
        #expect(supervisor.processes.map(shape) == ["/usr/bin/supervisor(8000)"])
        #expect(out.stats.vanished == 1)
        #expect(out.stats.belowSkippedProcess == 1)
        #expect(out.stats.summary.contains("1 vanished") && out.stats.summary.contains("1 below a skipped process"))
        // --verbose says which: the process that exited while read, and the one below it.
        #expect(out.skipped.first { $0.pid == 8100 } == SkippedProcess(pid: 8100, reason: "Invalid argument (errno 22)"))  // the broken stat
        #expect(out.skipped.filter { $0.workload == "supervisor" }.map(\.pid) == [8001, 8002])
        #expect(out.skipped.first { $0.pid == 8001 }?.reason == "no such file or directory")
        #expect(out.skipped.first { $0.pid == 8002 }?.reason == "below a process that could not be read")

        let session = try snapshot(proc, .units(names: ["session-3.scope"]))
        #expect(session.dumps.map(\.workload.imageName) == ["session-3.scope"])
        #expect(session.dumps.first?.processes.first?.record.commandLine.argv0 == "-bash")
        let missing = try snapshot(proc, .units(names: ["nginx"]))
        #expect(missing.dumps.isEmpty && missing.notes == ["no host process runs in nginx.service"])
    }

    @Test func oneProcessSubtree() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let out = try snapshot(proc, .pid(17259))
        let dump = try #require(out.dumps.first)
        #expect(out.dumps.count == 1)
        #expect(dump.workload.imageName == "dash")  // the root's executable
        #expect(dump.processes.map(shape) == [
            #"/usr/bin/dash(17259) ["-c", "\"/tmp/snapcap/we) ird\" 600 & /usr/bin/sleep 601 & wait"] "#
                + #"(/tmp/snapcap/we) ird(17261) ["600"]; /usr/bin/sleep(17262) ["601"])"#,
        ])
        #expect(dump.processes[0].record.commandLine.argv0 == "/bin/sh")
        #expect(dump.processes[0].children[0].record.comm == "we) ird")
        // A subtree whose root is listed but cannot be read is counted as such (the command's hint
        // then says so rather than "name it").
        let tree = try FakeProcTree()
        defer { tree.remove() }
        try tree.process(10, ppid: 1, exe: "/usr/bin/app", cgroup: "/")
        try FileManager.default.removeItem(atPath: tree.root + "/10/status")
        let unread = try Snapshotter(reader: tree.reader(), grouping: WorkloadGrouping(selector: .pid(10)), excluding: []).snapshot(clock: { 1 })
        #expect(unread.dumps.isEmpty && unread.stats.unreadWorkloads == 1 && unread.stats.vanished == 1)
        #expect(unread.notes == ["app: no process of the workload could be read"])
        let gone = try snapshot(proc, .pid(10))
        #expect(gone.dumps.isEmpty && gone.notes.first?.contains("process 10 is not there") == true)
    }

    @Test func filesAndListeningSocketsOfOneProcess() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let out = try snapshot(proc, .pid(16915), naming: WorkloadNaming(image: "web"))
        let python = try #require(out.dumps.first?.processes.first)
        #expect(python.record.executable == "/usr/bin/python3.11")
        #expect(python.record.commandLine.args == ["srv.py", "--name=web server", "two\nlines"])
        // /dev/null (a device), the pipe and the sockets are not files.
        #expect(python.node.files == [FileAccess(path: proc.file("app data.log"), flags: 0o2102001)])
        // Its listening sockets, not the host's other listeners in the same table, not its
        // established connection nor its connected UDP socket.
        #expect(python.binds == [
            SocketBind(family: "AF_INET", ip: "127.0.0.1", port: 15353, protocol: "udp"),
            SocketBind(family: "AF_INET", ip: "127.0.0.1", port: 18080, protocol: "tcp"),
            SocketBind(family: "AF_INET6", ip: "::", port: 18444, protocol: "tcp"),
            SocketBind(family: "AF_INET6", ip: "::1", port: 15354, protocol: "udp"),
            SocketBind(family: "AF_INET6", ip: "::1", port: 18443, protocol: "tcp"),
        ])
        #expect(out.stats.files == 1 && out.stats.sockets == 5)
        #expect(out.dumps.first?.workload.instanceID == "vm/web")
    }

    @Test func hugeFdTablesAreBounded() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        var limits = SnapshotLimits()
        limits.maxFDsPerProcess = 3
        let out = try snapshot(proc, .pid(16915), limits: limits)
        let python = try #require(out.dumps.first?.processes.first)
        #expect(python.record.fdTableTruncated)
        #expect(python.record.files.count + python.record.socketInodes.count <= 3)
        #expect(out.stats.fdTablesTruncated == 1)
        #expect(out.stats.summary.contains("1 fd tables cut at the bound"))
    }

    @Test func matchOnExecutableOrCgroup() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let nginx = try snapshot(proc, .match([Glob("*/nginx")]))
        #expect(nginx.dumps.map(\.workload.imageName) == ["nginx"])
        #expect(nginx.dumps.first?.workload.containerID == Self.nginxID)  // all of it runs in one container
        #expect(nginx.dumps.first?.processes.map(\.record.pid) == [3001])
        let cron = try snapshot(proc, .match([Glob("*/cron.service")]), naming: WorkloadNaming(image: "cron-jobs", tag: "1"))
        #expect(cron.dumps.first.map { "\($0.workload.imageName):\($0.workload.imageTag)" } == "cron-jobs:1")
        #expect(cron.dumps.first?.processes.map(shape).first?.hasPrefix("/usr/sbin/cron(900)") == true)
        let none = try snapshot(proc, .match([Glob("/nothing/*")]))
        #expect(none.dumps.isEmpty && none.notes == ["no process matches /nothing/*"])
    }

    @Test func bothEncodingsDecodeAsAnAgentsDumpWould() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let mapping = try ImageMapping(parsing: "/docker/* nginx:1.25\n")
        var dumps = try snapshot(proc, .containers(), naming: WorkloadNaming(mapping: mapping)).dumps
        dumps += try snapshot(proc, .pid(16915), naming: WorkloadNaming(image: "web")).dumps
        dumps += try snapshot(proc, .pid(17259)).dumps
        #expect(dumps.count == 3)
        let decoder = DumpDecoder()
        for dump in dumps {
            // SecDump has no field for the container's creation, and DumpDecoder does not keep
            // Baseline's `container_created_at` yet (the encoding carries it): compared apart.
            var expected = dump.activityDump
            expected.workload.containerCreatedAt = nil
            let baseline = try SnapshotFormat.baseline.encode(dump)
            let (format, raw) = try decoder.decodeRaw(baseline)
            #expect(format == .baselineJSON)
            var decoded = raw
            decoded.workload.containerCreatedAt = nil
            #expect(decoded == expected)
            let datadog = try SnapshotFormat.datadog.encode(dump)
            let (ddFormat, ddDecoded) = try decoder.decodeRaw(datadog)
            #expect(ddFormat == .datadogJSON)
            #expect(ddDecoded == expected)
            // Accepted by dump-consumer, to the same merge request either way.
            let a = try decoder.decode(baseline, receivedAt: dump.end), b = try decoder.decode(datadog, receivedAt: dump.end)
            #expect(a.dumpID == dump.id && b.dumpID == dump.id)
            #expect(a.dump.processes == b.dump.processes)

            // Every process and file node says where it came from.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(baseline)) as? [String: Any])
            var processes = 0, files = 0
            func walk(_ nodes: [[String: Any]]) {
                for n in nodes {
                    processes += 1
                    #expect(n["generation_type"] as? String == "snapshot")
                    for f in n["files"] as? [[String: Any]] ?? [] {
                        files += 1
                        #expect(f["generation_type"] as? String == "snapshot")
                    }
                    walk(n["children"] as? [[String: Any]] ?? [])
                }
            }
            walk(object["processes"] as? [[String: Any]] ?? [])
            var expectedProcesses = 0, expectedFiles = 0
            dump.forEachProcess {
                expectedProcesses += 1
                expectedFiles += $0.node.files.count
            }
            #expect(processes == expectedProcesses && files == expectedFiles && processes > 0)
            let secdump = try #require(try JSONSerialization.jsonObject(with: Data(datadog)) as? [String: Any])
            let tree = secdump["tree"] as? [[String: Any]] ?? []
            #expect(!tree.isEmpty && tree.allSatisfy { $0["generation_type"] as? String == "SNAPSHOT" })
        }
    }

    @Test func informationalFieldsOfTheBaselineEncoding() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let mapping = try ImageMapping(parsing: "/docker/* nginx:1.25\n")
        let dump = try #require(try snapshot(proc, .containers(), naming: WorkloadNaming(mapping: mapping)).dumps.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try SnapshotFormat.baseline.encode(dump))) as? [String: Any])
        let master = try #require((object["processes"] as? [[String: Any]])?.first)
        #expect(master["ppid"] as? Int == 3000)
        #expect(master["uid"] as? Int == 0)
        #expect(master["container_id"] as? String == Self.nginxID)
        #expect(master["cgroup"] as? String == "/docker/\(Self.nginxID)")
        #expect((master["start_time"] as? NSNumber)?.int64Value == dump.processes[0].record.startTime)
        let worker = try #require((master["children"] as? [[String: Any]])?.first)
        #expect(worker["uid"] as? Int == 101)
        #expect((object["workload"] as? [String: Any])?["container_created_at"] != nil)
    }

    @Test func dumpsOverTheLimitsAreNotProduced() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let reader = proc.reader()
        let table = try ProcessTable.scan(reader)
        let groups = WorkloadGrouping(selector: .pid(16915), naming: WorkloadNaming(image: "web")).groups(table).groups
        var limits = DumpLimits()
        limits.maxStringLength = 10  // python's path is longer
        let out = SnapshotBuilder(reader: reader, limits: limits).build(groups, table: table, start: 1, clock: { 2 })
        #expect(out.dumps.isEmpty)
        #expect(out.stats.overLimits == 1)
        #expect(out.notes.first?.contains("string_too_long") == true)
    }

    @Test func aMissingProcTreeIsAClearError() {
        let snapshotter = Snapshotter(reader: ProcReader(fs: ProcFileSystem(root: "/nonexistent-proc")),
                                      grouping: WorkloadGrouping(selector: .containers()))
        do throws(Snapshotter.Failure) {
            _ = try snapshotter.snapshot(clock: { 1 })
            Issue.record("a missing /proc must fail")
        } catch {
            #expect(error.description == "cannot list the processes under /nonexistent-proc: no such directory (is procfs mounted there? see --proc)")
        }
        #expect(ProcError.permissionDenied.description == "permission denied")
        #expect(ProcError.other(errno: EIO).description.contains("errno 5"))
    }

    @Test func theSnapshotterLeavesOutItselfAsTheProcTreeNumbersIt() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        // The captured tree has no `self`: nothing is left out (getpid() would name another process there).
        #expect(Snapshotter(reader: proc.reader(), grouping: WorkloadGrouping(selector: .containers())).excludedPIDs.isEmpty)
        try FileManager.default.createSymbolicLink(atPath: proc.root + "/self", withDestinationPath: "16915")
        let snapshotter = Snapshotter(reader: proc.reader(), grouping: WorkloadGrouping(selector: .pid(16915)))
        #expect(snapshotter.excludedPIDs == [16915])
        #expect(try snapshotter.snapshot(clock: { 1 }).dumps.isEmpty)
        #expect(Snapshotter(reader: ProcReader(), grouping: WorkloadGrouping(selector: .containers())).excludedPIDs == [Int64(getpid())])
    }

    @Test func startTimeArithmeticNeverTraps() {
        let reader = ProcReader(fs: ProcFileSystem(root: "/nonexistent"), ticksPerSecond: 100)
        #expect(reader.startTime(ticks: 250, bootTime: 1_000_000_000) == 3_500_000_000)
        #expect(reader.startTime(ticks: UInt64.max, bootTime: 0) == nil)
        #expect(reader.startTime(ticks: UInt64(Int64.max), bootTime: 0) == nil)
        #expect(reader.startTime(ticks: 100, bootTime: Int64.max) == nil)
        #expect(reader.startTime(ticks: 1, bootTime: nil) == nil)
        let noClock = ProcReader(fs: ProcFileSystem(root: "/nonexistent"), ticksPerSecond: 0)
        #expect(noClock.startTime(ticks: 1, bootTime: 0) == nil)
    }
}
