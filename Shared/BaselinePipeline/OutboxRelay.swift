import Logging
import ServiceLifecycle

/// Publishes what was committed but not yet published, while the service runs (not only at
/// start): every `interval`, `body` drains an outbox (profile-merger: unpublished anomalies;
/// signal-enricher: unpublished suggestions). Duplicates are harmless downstream (stable ids).
public struct OutboxRelay: Service {
    let interval: Duration
    let body: @Sendable () async -> Void

    public init(interval: Duration = .seconds(30), _ body: @escaping @Sendable () async -> Void) {
        self.interval = interval
        self.body = body
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            await body()
        }
    }
}
