import ServiceLifecycle

/// Capped exponential backoff with jitter for retry loops: 200 ms doubling to 30 s, ±25 %. The
/// wait ends early on graceful shutdown, and says so, so a retry loop never holds up SIGTERM.
struct Backoff {
    private(set) var delay = Duration.milliseconds(200)
    let cap = Duration.seconds(30)

    /// Waits for the current delay and grows it; false when the service is shutting down.
    mutating func wait() async -> Bool {
        let wait = delay * Double.random(in: 0.75...1.25)
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        delay = min(delay * 2, cap)
        return !(Task.isShuttingDownGracefully || Task.isCancelled)
    }
}
