/// What one snapshot (or a series of them) saw and skipped. Nothing read from /proc is fatal: each
/// process that could not be used is counted under its reason, and the summary says so.
public struct SnapshotStats: Hashable, Sendable {
    /// Processes listed under /proc.
    public var listed = 0
    /// Kernel threads (PF_KTHREAD, kthreadd and its children): no executable, never a workload.
    public var kernelThreads = 0
    /// Processes that exited between listing and reading (or were zombies).
    public var vanished = 0
    /// Processes we were not allowed to inspect (another user's, without CAP_SYS_PTRACE).
    public var permissionDenied = 0
    /// Processes whose files could not be read for another reason (malformed text, odd errno).
    public var unreadable = 0
    /// Processes that ran another program (exec) while they were read.
    public var replaced = 0
    /// Processes whose read blocked past the deadline (a process stuck on a hung file system).
    public var timedOut = 0
    /// Process records read (each costs an fd walk): bounded per workload by the dump limits.
    public var recordsRead = 0
    /// Container ids claimed under two cgroup paths (one is forged): not dumped.
    public var ambiguousContainers = 0
    /// Processes in containers or units below a user manager, left out without `--rootless`.
    public var userManagerProcesses = 0
    /// `--match` processes in another mount namespace than the workload's.
    public var otherMountNamespaces = 0
    /// Processes left out because an ancestor inside the workload could not be read: attaching
    /// them elsewhere would invent a lineage.
    public var belowSkippedProcess = 0
    /// Processes in the snapshot's dumps.
    public var processes = 0
    /// Processes whose fd table had more entries than the bound (the rest was not examined).
    public var fdTablesTruncated = 0
    /// Arguments cut to the dump's string limit.
    public var argumentsTruncated = 0
    /// Open regular files and listening sockets reported.
    public var files = 0
    public var sockets = 0
    /// Socket tables (/proc/<pid>/net/*) that could not be read, or were cut at the size bound.
    public var socketTablesUnreadable = 0
    /// Workloads (dumps) produced.
    public var workloads = 0
    /// Workloads selected of which no process could be read.
    public var unreadWorkloads = 0
    /// Containers seen that no name (--image, --map) applied to: not dumped.
    public var unnamedContainers = 0
    /// Workloads whose dump would be rejected by dump-consumer's limits: not produced.
    public var overLimits = 0
    /// Workloads of container runtimes only (a `containerd.service` unit), which the merge drops: not produced.
    public var runtimesOnly = 0

    public init() {}

    public mutating func add(_ other: SnapshotStats) {
        listed += other.listed
        kernelThreads += other.kernelThreads
        vanished += other.vanished
        permissionDenied += other.permissionDenied
        unreadable += other.unreadable
        replaced += other.replaced
        timedOut += other.timedOut
        recordsRead += other.recordsRead
        ambiguousContainers += other.ambiguousContainers
        userManagerProcesses += other.userManagerProcesses
        otherMountNamespaces += other.otherMountNamespaces
        belowSkippedProcess += other.belowSkippedProcess
        processes += other.processes
        fdTablesTruncated += other.fdTablesTruncated
        argumentsTruncated += other.argumentsTruncated
        files += other.files
        sockets += other.sockets
        socketTablesUnreadable += other.socketTablesUnreadable
        workloads += other.workloads
        unreadWorkloads += other.unreadWorkloads
        unnamedContainers += other.unnamedContainers
        overLimits += other.overLimits
        runtimesOnly += other.runtimesOnly
    }

    mutating func count(_ error: ProcError) {
        switch error {
        case .vanished: vanished += 1
        case .permissionDenied: permissionDenied += 1
        case .replaced: replaced += 1
        case .timedOut: timedOut += 1
        case .other: unreadable += 1
        }
    }

    /// One line: what was dumped, then every non-zero skip reason.
    public var summary: String {
        var skipped: [String] = []
        for (n, what) in [(kernelThreads, "kernel threads"), (vanished, "vanished"), (permissionDenied, "permission denied"),
                          (unreadable, "unreadable"), (replaced, "ran another program while read"),
                          (timedOut, "timed out (stuck in the kernel)"),
                          (belowSkippedProcess, "below a skipped process"),
                          (unnamedContainers, "containers without a name (use --image or --map)"),
                          (ambiguousContainers, "containers whose id is claimed twice"),
                          (userManagerProcesses, "processes below a user manager (use --rootless)"),
                          (otherMountNamespaces, "matches in another mount namespace"),
                          (overLimits, "workloads over the dump limits"), (runtimesOnly, "workloads of container runtimes only"),
                          (fdTablesTruncated, "fd tables cut at the bound"),
                          (argumentsTruncated, "arguments cut to the string limit"),
                          (socketTablesUnreadable, "socket tables unreadable")] where n > 0 {
            skipped.append("\(n) \(what)")
        }
        let head = "\(workloads) workload(s), \(processes) process(es), \(files) file(s), \(sockets) listening socket(s) of \(listed) listed"
        return skipped.isEmpty ? head : head + "; skipped: " + skipped.joined(separator: ", ")
    }
}
