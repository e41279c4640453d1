/// The fields of `/proc/<pid>/stat` a snapshot needs (proc(5)). `comm` sits in parentheses and may
/// itself hold spaces, parentheses or a newline, so the fields after it are found from the *last*
/// `)`. Numbers that do not parse or do not fit make the line invalid (nil), never a trap.
public struct ProcStat: Hashable, Sendable {
    public var pid: Int64
    public var comm: String
    /// R, S, D, Z (zombie), X (dead), T, t, I (idle kernel thread), …
    public var state: Character
    public var ppid: Int64
    /// `task->flags`; PF_KTHREAD marks a kernel thread.
    public var flags: UInt64
    /// Start time in clock ticks after boot.
    public var startTicks: UInt64

    /// PF_KTHREAD (include/linux/sched.h).
    public static let kernelThreadFlag: UInt64 = 0x0020_0000
    /// kthreadd: every kernel thread is its child.
    public static let kthreaddPID: Int64 = 2

    public var isKernelThread: Bool { isKernelThread(kthreaddAtPID2: true) }

    /// Whether this is a kernel thread when pid 2 of the tree is (`kthreaddAtPID2`) or is not
    /// kthreadd: in a pid namespace's /proc (a container's) pid 2 is an ordinary process, and the
    /// pid/ppid rule would hide it and its children.
    public func isKernelThread(kthreaddAtPID2: Bool) -> Bool {
        flags & Self.kernelThreadFlag != 0 || (kthreaddAtPID2 && (pid == Self.kthreaddPID || ppid == Self.kthreaddPID))
    }

    /// The process has exited and waits to be reaped: it has no executable, files or sockets left.
    public var isExited: Bool { state == "Z" || state == "X" || state == "x" }

    public init(pid: Int64, comm: String, state: Character, ppid: Int64, flags: UInt64, startTicks: UInt64) {
        self.pid = pid
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.flags = flags
        self.startTicks = startTicks
    }

    public init?(_ text: String) {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close,
              let pid = Int64(text[..<open].trimmingWhitespace()) else { return nil }
        let fields = text[text.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        // state ppid pgrp session tty_nr tpgid flags … starttime is the 20th field after comm.
        guard fields.count >= 20, fields[0].count == 1, let state = fields[0].first,
              let ppid = Int64(fields[1]), let flags = UInt64(fields[6]), let start = UInt64(fields[19]) else { return nil }
        self.init(pid: pid, comm: String(text[text.index(after: open)..<close]), state: state, ppid: ppid, flags: flags,
                  startTicks: start)
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return s
    }
}
