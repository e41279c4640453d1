import Foundation

/// A dedicated OS thread that serves librdkafka callbacks (`rd_kafka_poll`) until stopped.
/// Blocking C calls never run on Swift's cooperative thread pool (2 threads on this machine).
final class PollThread: @unchecked Sendable {
    private let handle: OpaquePointer
    private let stopped = ManagedAtomicFlag()
    private let done = DispatchSemaphore(value: 0)

    init(handle: OpaquePointer, name: String) {
        self.handle = handle
        let thread = Thread { [self] in
            while !stopped.isSet { rd_kafka_poll(self.handle, 100) }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        guard stopped.set() else { return }
        done.wait()
    }
}

/// A set-once flag shared across threads.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    /// Sets the flag; returns false when it was already set.
    @discardableResult
    func set() -> Bool {
        lock.withLock {
            if value { return false }
            value = true
            return true
        }
    }
}

/// Runs a blocking librdkafka call on a serial dispatch queue, off the cooperative pool.
func offloaded<T: Sendable>(_ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        queue.async { continuation.resume(with: Result { try body() }) }
    }
}
