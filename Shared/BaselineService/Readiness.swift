import Synchronization

/// Whether the service can do its work now, reported on /readyz: start-up finished (database
/// migrated, topics present), no stage reports a problem, and every registered check passes
/// (a consumer that holds partitions and reaches its brokers, a database that answers).
public final class Readiness: Sendable {
    public typealias Check = @Sendable () async -> String?

    private let state = Mutex<(ready: Bool, reason: String)>((false, "starting"))
    private let checks = Mutex<[(name: String, check: Check)]>([])

    public init() {}

    public func markReady() { state.withLock { $0 = (true, "ready") } }
    public func markNotReady(_ reason: String) { state.withLock { $0 = (false, reason) } }

    /// A condition evaluated on every /readyz request: nil when fine, else why not.
    public func addCheck(_ name: String, _ check: @escaping Check) { checks.withLock { $0.append((name, check)) } }

    /// The flag alone (what stages set).
    public var status: (ready: Bool, reason: String) { state.withLock { $0 } }

    /// The flag and every check.
    public func evaluate() async -> (ready: Bool, reason: String) {
        let base = status
        guard base.ready else { return base }
        for (name, check) in checks.withLock({ $0 }) {
            if let problem = await check() { return (false, "\(name): \(problem)") }
        }
        return base
    }
}
