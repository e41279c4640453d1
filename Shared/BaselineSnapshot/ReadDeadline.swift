import Foundation

/// Reads of one process that may block in the kernel (its `cmdline` takes the process's memory
/// lock, which a process stuck on a hung FUSE or NFS page fault holds forever) run on a thread of
/// their own and are abandoned past a deadline: the snapshot goes on, the process is counted
/// (`timed out`), and it is not read again while it stays stuck, so each stuck process costs at
/// most one blocked thread however many rounds run.
public final class ReadDeadline: @unchecked Sendable {
    public let timeout: Duration
    private let lock = NSLock()
    /// Processes (pid and start ticks) whose read is still blocked.
    private var stuck: Set<ProcessIdentity> = []

    struct ProcessIdentity: Hashable {
        var pid: Int64
        var startTicks: UInt64
    }

    public init(timeout: Duration = .seconds(10)) {
        self.timeout = timeout
    }

    /// Processes whose read is still blocked.
    public var stuckCount: Int { lock.withLock { stuck.count } }

    /// `body` on its own thread, waited for up to `timeout`: its result, or `.timedOut`.
    func run<T: Sendable>(_ summary: ProcessSummary, _ body: @escaping @Sendable () throws(ProcError) -> T) throws(ProcError) -> T {
        let identity = ProcessIdentity(pid: summary.pid, startTicks: summary.stat.startTicks)
        if lock.withLock({ stuck.contains(identity) }) { throw .timedOut }
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let result = Result<T, ProcError> { () throws(ProcError) -> T in try body() }
            box.set(result)
            done.signal()
            // A read that came back after all: the process may be read again next time.
            lock.withLock { _ = stuck.remove(identity) }
        }
        thread.name = "snapshot-read-\(summary.pid)"
        thread.start()
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
        if done.wait(timeout: .now() + .nanoseconds(max(0, nanoseconds))) == .timedOut {
            lock.withLock { _ = stuck.insert(identity) }
            // It may have finished between the timeout and the insert.
            if let result = box.get() {
                lock.withLock { _ = stuck.remove(identity) }
                return try result.get()
            }
            throw .timedOut
        }
        return try box.get()!.get()
    }
}

/// The result a reading thread leaves for the waiting one.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, ProcError>?

    func set(_ v: Result<T, ProcError>) { lock.withLock { value = v } }
    func get() -> Result<T, ProcError>? { lock.withLock { value } }
}
