#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds on the work one snapshot does per process, so a process with a million fds or a
/// megabyte of arguments costs a bounded amount (what was left out is counted).
public struct SnapshotLimits: Hashable, Sendable {
    /// fd entries examined per process (dump-consumer accepts at most 10 000 files per process).
    public var maxFDsPerProcess = 4096
    /// Bytes of `/proc/<pid>/cmdline` read.
    public var maxCommandLineBytes = 256 << 10
    /// UTF-8 bytes per argument (dump-consumer's string limit).
    public var maxArgumentBytes = 4096
    /// Bytes of one socket table (/proc/<pid>/net/tcp…): about 400 000 sockets.
    public var maxSocketTableBytes = 64 << 20

    public init() {}
}

/// Reads processes from a /proc tree. Each function reports a failure as a `ProcError` for the
/// caller to count; none of them stops a snapshot.
public struct ProcReader: Sendable {
    public let fs: ProcFileSystem
    public var limits: SnapshotLimits
    /// Clock ticks per second of `stat`'s start time (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
    public var ticksPerSecond: Int64

    public init(fs: ProcFileSystem = ProcFileSystem(), limits: SnapshotLimits = SnapshotLimits(),
                ticksPerSecond: Int64 = Int64(sysconf(Int32(_SC_CLK_TCK)))) {
        self.fs = fs
        self.limits = limits
        self.ticksPerSecond = ticksPerSecond
    }

    /// The numeric entries of the /proc root: one per process (thread-group leader).
    public func listPIDs() throws(ProcError) -> [Int64] {
        try fs.list("").names.compactMap { name in
            name.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } ? Int64(name) : nil
        }.sorted()
    }

    public func stat(_ pid: Int64) throws(ProcError) -> ProcStat {
        guard let stat = ProcStat(try fs.readText("\(pid)/stat", maxBytes: 4096)) else { throw .other(errno: EINVAL) }
        return stat
    }

    /// A process's cgroup added to its stat (read first, so kernel threads cost no more).
    public func summary(_ stat: ProcStat, liveThread: Int64? = nil) throws(ProcError) -> ProcessSummary {
        var summary = ProcessSummary(stat: stat, cgroup: CgroupMembership(path: "/"))
        summary.liveThread = liveThread
        summary.cgroup = CgroupParser.parse(try fs.readText("\(summary.directory)/cgroup", maxBytes: 64 << 10))
        return summary
    }

    /// The executable's path. The kernel appends ` (deleted)` once the binary is unlinked (an
    /// upgraded package); that suffix is dropped only when the file really has no links left, so
    /// a binary whose name ends that way is kept as it is.
    public func executable(_ pid: Int64) throws(ProcError) -> String {
        try path(link: "\(pid)/exe")
    }

    /// The executable read through a process's directory (`<pid>` or `<pid>/task/<tid>`).
    func executable(directory: String) throws(ProcError) -> String {
        try path(link: "\(directory)/exe")
    }

    /// A thread still running in a process whose main thread exited (`pthread_exit` leaves the
    /// leader a zombie, state Z, while the others run on): its exe, fds and memory are read through
    /// `task/<tid>`, the leader's own entries being gone. Nil when every thread exited.
    public func liveThread(of pid: Int64) -> Int64? {
        guard let tids = try? fs.list("\(pid)/task", limit: 256).names else { return nil }
        for tid in tids.compactMap({ Int64($0) }).sorted() where tid != pid {
            if let text = try? fs.readText("\(pid)/task/\(tid)/stat", maxBytes: 4096), let stat = ProcStat(text), !stat.isExited {
                return tid
            }
        }
        return nil
    }

    func path(link relative: String) throws(ProcError) -> String {
        let bytes = try fs.readLink(relative)
        let text = String(decoding: bytes, as: UTF8.self)
        let deleted = " (deleted)"
        // Anonymous memory (`memfd_create`, SysV shared memory) is never a path and always has no
        // link: the marker stays, so a program run from memory (fileless) does not read as `/memfd:x`.
        if Self.anonymousPrefixes.contains(where: { text.hasPrefix($0) }) { return text }
        if text.hasSuffix(deleted), (try? fs.status(relative))?.linkCount == 0 {
            return String(text.dropLast(deleted.count))
        }
        return text
    }

    /// Link targets of anonymous memory, which the kernel shows as `/memfd:<name> (deleted)` and
    /// `/SYSV<key> (deleted)`.
    static let anonymousPrefixes = ["/memfd:", "/SYSV"]

    /// Everything about one process. Reads its stat again at the end: a different start time
    /// means the pid was reused while we read, and the record would mix two processes. Reads its
    /// executable and name again after that: a process that ran another program (exec) meanwhile
    /// would credit what the old one held open to the new one (or the other way round).
    public func record(_ summary: ProcessSummary, bootTime: Int64?) throws(ProcError) -> ProcessRecord {
        let pid = summary.pid
        let directory = summary.directory
        let executable: String
        if let known = summary.executable { executable = known } else { executable = try self.executable(directory: directory) }
        let commandLine = ProcCommandLine(try fs.read("\(directory)/cmdline", maxBytes: limits.maxCommandLineBytes),
                                          maxArgumentBytes: limits.maxArgumentBytes)
        let credentials = ProcCredentials(status: try fs.readText("\(directory)/status", maxBytes: 64 << 10))
        let (files, sockets, truncated) = try openFiles(directory: directory)
        let netns = namespace(directory: directory, "net")
        let again = try stat(pid)
        // A zombie leader is fine while the thread read through is alive (its reads would have failed otherwise).
        guard again.startTicks == summary.stat.startTicks, !again.isExited || summary.liveThread != nil else { throw .vanished }
        guard try self.executable(directory: directory) == executable, again.comm == summary.stat.comm else { throw .replaced }
        return ProcessRecord(pid: pid, ppid: summary.ppid, comm: summary.stat.comm, executable: executable,
                             commandLine: commandLine, credentials: credentials,
                             startTime: startTime(ticks: summary.stat.startTicks, bootTime: bootTime), cgroup: summary.cgroup,
                             files: files, socketInodes: sockets, networkNamespace: netns, fdTableTruncated: truncated,
                             liveThread: summary.liveThread)
    }

    /// Regular files and socket inodes among the process's fds (at most `maxFDsPerProcess`
    /// examined). An fd closed while we look is simply not there.
    func openFiles(directory: String) throws(ProcError) -> ([OpenFile], [UInt64], Bool) {
        let (names, truncated) = try fs.list("\(directory)/fd", limit: limits.maxFDsPerProcess)
        var flagsByPath: [String: UInt32] = [:]
        var sockets: [UInt64] = []
        for fd in names.compactMap({ Int($0) }).sorted() {
            guard let link = try? fs.readLink("\(directory)/fd/\(fd)") else { continue }
            if let inode = Self.socketInode(link) {
                sockets.append(inode)
                continue
            }
            // pipe:[…], anon_inode:[…] and other pseudo files are not paths.
            guard link.first == UInt8(ascii: "/"), let status = try? fs.status("\(directory)/fd/\(fd)"), status.isRegularFile,
                  let filePath = try? self.path(link: "\(directory)/fd/\(fd)") else { continue }
            let flags = (try? fs.readText("\(directory)/fdinfo/\(fd)", maxBytes: 4096)).flatMap(OpenFileFlags.parse(fdinfo:)) ?? 0
            flagsByPath[filePath, default: 0] |= flags
        }
        let files = flagsByPath.keys.sorted().map { OpenFile(path: $0, flags: flagsByPath[$0]!) }
        return (files, sockets, truncated)
    }

    /// `socket:[12345]` → 12345.
    static func socketInode(_ link: [UInt8]) -> UInt64? {
        let prefix = Array("socket:[".utf8)
        guard link.count > prefix.count + 1, link.starts(with: prefix), link.last == UInt8(ascii: "]") else { return nil }
        return UInt64(String(decoding: link[prefix.count..<(link.count - 1)], as: UTF8.self))
    }

    /// The listening sockets of the network namespace `pid` lives in. A table that cannot be read
    /// (or is cut at the bound) is counted in `unreadable` and the rest still used.
    public func socketTable(forProcess pid: Int64) -> (table: SocketTable, unreadable: Int) {
        socketTable(directory: "\(pid)")
    }

    /// The same, read through a process's directory (`<pid>` or `<pid>/task/<tid>`).
    func socketTable(directory: String) -> (table: SocketTable, unreadable: Int) {
        var table = SocketTable()
        var unreadable = 0
        for kind in SocketTable.Kind.allCases {
            do throws(ProcError) {
                let bytes = try fs.read("\(directory)/net/\(kind.rawValue)", maxBytes: limits.maxSocketTableBytes)
                if bytes.count >= limits.maxSocketTableBytes { unreadable += 1 }
                table.add(String(decoding: bytes, as: UTF8.self), kind: kind)
            } catch {
                // No IPv6 in this kernel (no tcp6 file) is not a problem; anything else is counted.
                if error != .vanished || kind == .tcp || kind == .udp { unreadable += 1 }
            }
        }
        return (table, unreadable)
    }

    /// `net:[4026531840]`, `mnt:[…]`: the namespace of a kind a process lives in (nil when unreadable).
    public func namespace(_ pid: Int64, _ kind: String) -> String? {
        namespace(directory: "\(pid)", kind)
    }

    func namespace(directory: String, _ kind: String) -> String? {
        (try? fs.readLink("\(directory)/ns/\(kind)")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The pid of the reading process as the /proc tree numbers it (`<proc>/self`): with a host's
    /// /proc mounted elsewhere, `getpid()` is the pid of our own pid namespace, another process there.
    public func selfPID() -> Int64? {
        (try? fs.readLink("self")).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }

    /// Boot time (`btime` of /proc/stat), nanoseconds since the epoch.
    public func bootTime() -> Int64? {
        guard let text = try? fs.readText("stat", maxBytes: 1 << 20) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            guard let seconds = Int64(line.dropFirst("btime ".count).trimmingWhitespace()) else { return nil }
            let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            return overflow || ns < 0 ? nil : ns
        }
        return nil
    }

    /// The host name of the *reader's* UTS namespace (`sys/kernel/hostname` answers for whoever
    /// reads it, whichever /proc tree it is under): in a pod without `hostNetwork`, the pod's name,
    /// not the node's. Pass `--host` there (docs/snapshot.md).
    public func hostname() -> String? {
        guard let text = try? fs.readText("sys/kernel/hostname", maxBytes: 256) else { return nil }
        let name = Substring(text).trimmingWhitespace()
        return name.isEmpty ? nil : String(name)
    }

    /// boot + ticks / hz, in nanoseconds, without overflowing: nil when it does not fit.
    public func startTime(ticks: UInt64, bootTime: Int64?) -> Int64? {
        guard let bootTime, ticksPerSecond > 0, ticks <= UInt64(Int64.max) else { return nil }
        let (seconds, rest) = Int64(ticks).quotientAndRemainder(dividingBy: ticksPerSecond)
        let (secondsNs, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (restScaled, o2) = rest.multipliedReportingOverflow(by: 1_000_000_000)
        guard !o1, !o2 else { return nil }
        let (sinceBoot, o3) = secondsNs.addingReportingOverflow(restScaled / ticksPerSecond)
        let (total, o4) = bootTime.addingReportingOverflow(sinceBoot)
        return o3 || o4 ? nil : total
    }
}
