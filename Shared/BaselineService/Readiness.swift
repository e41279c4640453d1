import Synchronization

/// Whether the service has finished start-up (database migrated, topics present, consumer
/// subscribed) and is not shutting down; reported on /readyz.
public final class Readiness: Sendable {
    private let state = Mutex<(ready: Bool, reason: String)>((false, "starting"))

    public init() {}

    public func markReady() { state.withLock { $0 = (true, "ready") } }
    public func markNotReady(_ reason: String) { state.withLock { $0 = (false, reason) } }
    public var status: (ready: Bool, reason: String) { state.withLock { $0 } }
}
