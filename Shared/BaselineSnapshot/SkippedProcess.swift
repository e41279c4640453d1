/// One process a snapshot left out and why, for `--verbose` (the summary only counts them).
public struct SkippedProcess: Hashable, Sendable, CustomStringConvertible {
    public var pid: Int64
    /// Its name when its stat was read.
    public var comm: String?
    /// The workload it belonged to, when it was left out while its workload was read.
    public var workload: String?
    public var reason: String

    public init(pid: Int64, comm: String? = nil, workload: String? = nil, reason: String) {
        self.pid = pid
        self.comm = comm
        self.workload = workload
        self.reason = reason
    }

    /// At most this many are kept per snapshot (a host of 100 000 processes denied to a non-root user).
    public static let maxKept = 1000

    public var description: String {
        "skipped \(pid)\(comm.map { " (\($0))" } ?? "")\(workload.map { " in \($0)" } ?? ""): \(reason)"
    }
}

extension Array where Element == SkippedProcess {
    /// Appends while under the bound.
    mutating func note(_ skipped: SkippedProcess) {
        if count < SkippedProcess.maxKept { append(skipped) }
    }
}
