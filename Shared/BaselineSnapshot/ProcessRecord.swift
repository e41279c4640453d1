/// What every listed process costs to know (its stat and cgroup): enough to group processes into
/// workloads before anything heavier is read. `executable` is read only when a selector needs it.
public struct ProcessSummary: Hashable, Sendable {
    public var stat: ProcStat
    public var cgroup: CgroupMembership
    public var executable: String?
    /// `mnt:[<inode>]`, read with the executable (a path names a program only within one mount namespace).
    public var mountNamespace: String?
    /// Its main thread exited (a zombie leader) while this thread runs on: read through `task/<tid>`.
    public var liveThread: Int64?

    public var pid: Int64 { stat.pid }
    public var ppid: Int64 { stat.ppid }
    /// Where its entries are read under the /proc root.
    public var directory: String { liveThread.map { "\(pid)/task/\($0)" } ?? "\(pid)" }

    public init(stat: ProcStat, cgroup: CgroupMembership, executable: String? = nil, mountNamespace: String? = nil) {
        self.stat = stat
        self.cgroup = cgroup
        self.executable = executable
        self.mountNamespace = mountNamespace
    }
}

/// A regular file a process holds open.
public struct OpenFile: Hashable, Sendable {
    /// The path as the process's mount namespace names it (a container's own view).
    public var path: String
    /// Open flags from fdinfo (0 when unreadable).
    public var flags: UInt32

    public init(path: String, flags: UInt32) {
        self.path = path
        self.flags = flags
    }
}

/// Everything a snapshot reports about one process.
public struct ProcessRecord: Hashable, Sendable {
    public var pid: Int64
    public var ppid: Int64
    public var comm: String
    /// `/proc/<pid>/exe`, without the ` (deleted)` the kernel appends once the binary is unlinked.
    public var executable: String
    public var commandLine: ProcCommandLine
    public var credentials: ProcCredentials
    /// Start time, nanoseconds since the epoch (nil when boot time or the tick rate is unknown, or overflowing).
    public var startTime: Int64?
    public var cgroup: CgroupMembership
    /// Open regular files, one per path (flags of the same path OR-ed), in path order.
    public var files: [OpenFile]
    /// Inodes of the sockets among its fds (`socket:[<inode>]`).
    public var socketInodes: [UInt64]
    /// `net:[<inode>]`: the network namespace its sockets live in (nil when unreadable).
    public var networkNamespace: String?
    /// The fd table had more entries than examined.
    public var fdTableTruncated: Bool
    /// Read through this thread (its main thread had exited).
    public var liveThread: Int64?
    /// Where its entries are read under the /proc root.
    public var directory: String { liveThread.map { "\(pid)/task/\($0)" } ?? "\(pid)" }

    public init(pid: Int64, ppid: Int64, comm: String, executable: String, commandLine: ProcCommandLine,
                credentials: ProcCredentials = ProcCredentials(), startTime: Int64? = nil, cgroup: CgroupMembership,
                files: [OpenFile] = [], socketInodes: [UInt64] = [], networkNamespace: String? = nil, fdTableTruncated: Bool = false,
                liveThread: Int64? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.comm = comm
        self.executable = executable
        self.commandLine = commandLine
        self.credentials = credentials
        self.startTime = startTime
        self.cgroup = cgroup
        self.files = files
        self.socketInodes = socketInodes
        self.networkNamespace = networkNamespace
        self.fdTableTruncated = fdTableTruncated
        self.liveThread = liveThread
    }
}
