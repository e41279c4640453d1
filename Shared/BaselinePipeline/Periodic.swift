import Logging
import ServiceLifecycle

/// Work that runs every `interval` while the service runs, the first time one interval after start:
/// the outbox relays, the clock sweep, the topic keeper, the suppression refresh. A graceful
/// shutdown cuts the wait short, so a long interval never holds up SIGTERM.
public struct Periodic: Service {
    let interval: Duration
    let runFirstImmediately: Bool
    let body: @Sendable () async -> Void

    public init(every interval: Duration, immediately: Bool = false, _ body: @escaping @Sendable () async -> Void) {
        self.interval = interval
        self.runFirstImmediately = immediately
        self.body = body
    }

    public func run() async throws {
        if runFirstImmediately { await body() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            await body()
        }
    }
}
